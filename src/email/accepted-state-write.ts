import { setTimeout as sleep } from 'node:timers/promises';

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
      if (i >= tries) throw error;
      await sleep(100 * 2 ** i);
    }
  }
}
