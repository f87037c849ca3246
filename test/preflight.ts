import { installCommand, missingTools, SYSTEM_TOOLS } from './helpers/system-tools.ts'

/**
 * Run first by `npm test`: says at once which system tools the suites need are missing, and the one
 * command that installs them, instead of suites failing one by one many minutes later.
 */
const missing = missingTools()
if (missing.length > 0) {
  const lines = [
    'fiscalbox tests: system tools missing',
    ...SYSTEM_TOOLS.filter((tool) => missing.includes(tool.command)).map(
      (tool) => `  ${tool.command} (Debian package ${tool.debian}): ${tool.use}`,
    ),
    `Install them with:`,
    `  ${installCommand(missing)}`,
    `Then run the tests again (single files run without this check: node --import tsx --test FILE).`,
  ]
  process.stderr.write(`${lines.join('\n')}\n`)
  process.exit(1)
}
process.stderr.write(`system tools present: ${SYSTEM_TOOLS.map((tool) => tool.command).join(', ')}\n`)
