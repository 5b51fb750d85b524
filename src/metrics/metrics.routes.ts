/** Exported so the deployment manifests test checks scrape annotations against the real route. */
export const METRICS_ROUTE = 'metrics';
export const METRICS_PATH = `/${METRICS_ROUTE}`;
