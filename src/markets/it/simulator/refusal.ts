/** The device refuses a command: the answer's code and firmware status, and why (for the simulator's log). */
export class DeviceRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'PRINTER ERROR',
  ) {
    super(message)
    this.name = 'DeviceRefusal'
  }
}
