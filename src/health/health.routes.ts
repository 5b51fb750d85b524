/**
 * The probe routes, exported so the Kubernetes manifests test compares its YAML against the
 * paths the app really serves.
 */
export const HEALTH_ROUTE = 'health';
export const LIVENESS_PATH = `/${HEALTH_ROUTE}/live`;
export const READINESS_PATH = `/${HEALTH_ROUTE}/ready`;
