/**
 * Idempotent open/close lifecycle (after holepunchto/ready-resource).
 * Subclasses implement _open/_close; close() waits for a pending open and
 * tolerates a half-open object.
 */
export abstract class Resource {
  opened = false
  closed = false
  private opening: Promise<void> | null = null
  private closing: Promise<void> | null = null

  ready (): Promise<void> {
    if (this.opening === null) this.opening = this.runOpen()
    return this.opening
  }

  close (): Promise<void> {
    if (this.closing === null) this.closing = this.runClose()
    return this.closing
  }

  private async runOpen () {
    await this._open()
    this.opened = true
  }

  private async runClose () {
    if (this.opening !== null) await this.opening.catch(() => {})
    await this._close()
    this.closed = true
  }

  protected abstract _open (): Promise<void>
  protected abstract _close (): Promise<void>
}
