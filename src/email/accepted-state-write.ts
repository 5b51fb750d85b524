import { setTimeout as sleep } from 'node:timers/promises';
import { isDatabaseUnavailable } from '../common/database-unavailable';

const OUTAGE_TRIES = 150;

/**
 * Writes the accepted state, trying a few times: once the server has the message, losing this
 * write is the only way a retry could send it twice.
 */
export async function writeAcceptedState(write: () => Promise<unknown>, tries = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await write();
      return;
    } catch (error) {
      // A database outage is waited out (up to ~5 minutes): only this write keeps a retry from sending again.
      if (i >= tries && !(isDatabaseUnavailable(error) && i < OUTAGE_TRIES)) throw error;
      await sleep(Math.min(100 * 2 ** i, 2000));
    }
  }
}
