/**
 * The Epson fpmate protocol (Fiscal ePOS-Print XML over HTTP) as RT printers speak it: commands as data,
 * their SOAP envelope, the device's answers, the last-document record of directIO 1387, the return/void
 * reference line, device numbers, and an HTTP client. Pure apart from the client; shared by the Italian
 * market and the device simulator.
 */
export * from './amounts.ts'
export * from './client.ts'
export * from './commands.ts'
export * from './device-status.ts'
export * from './last-document.ts'
export * from './reference-line.ts'
export * from './requests.ts'
export * from './responses.ts'
