import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { VerifyReport } from './jsonl-export.ts'

export interface LineVerifier {
  line(text: string, lineNumber: number): void
  finish(): VerifyReport
}

/** Feeds a JSON Lines export to its verifier line by line; `onBytes` hears how far it has read. */
export async function verifyJsonlFile(
  file: string,
  verifier: LineVerifier,
  onBytes: (bytesRead: number) => void = () => {},
): Promise<VerifyReport> {
  const input = createReadStream(file)
  let n = 0
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    verifier.line(line, ++n)
    if (n % 1000 === 0) onBytes(input.bytesRead)
  }
  onBytes(input.bytesRead)
  return verifier.finish()
}
