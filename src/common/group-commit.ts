/**
 * Group commit: items handed to {@link GroupCommit.add} while earlier groups are being written
 * share the next write. A lone item is written at once (on the next turn of the event loop, so
 * the requests parsed in the same turn join it); under load, while `maxInFlight` writes are
 * running, the items that arrive wait for one of them to finish and then go together, up to
 * `maxGroup` at a time. Each caller gets its own item's outcome; a write that fails fails
 * every item of its group with that error.
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Writes one group; returns one result per item, in order. */
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxInFlight: number,
    private readonly maxGroup: number,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    const group = this.pending.splice(0, this.maxGroup);
    this.inFlight++;
    this.write(group.map((g) => g.item))
      .then(
        (results) => group.forEach((g, i) => g.resolve(results[i])),
        (error: unknown) => group.forEach((g) => g.reject(error)),
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
    // More waiting than one group holds: start the next write too, within the in-flight limit.
    this.schedule();
  }
}
