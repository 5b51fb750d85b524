/** Where Bull Board is mounted (the old system's Flower). */
export const DASHBOARD_PATH = '/admin/queues';
/** The realm browsers show in their sign-in prompt. */
export const DASHBOARD_REALM = 'Task service';
