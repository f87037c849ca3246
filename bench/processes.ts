import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The repository root: every child runs from there, as `npm start` would. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface Server {
  name: string
  url: string
  pid: number
  /** The last lines it printed (stdout and stderr), e.g. to read an address it announces after listening. */
  output: readonly string[]
  stop(): Promise<void>
}

const LISTENING = /listening on (http:\/\/[^\s]+)/

/**
 * Starts a server as a child process and resolves once it prints `listening on http://...`. Its output is
 * drained (a full pipe would stall it) and the last lines are kept to explain a failed start.
 */
export async function startServer(
  name: string,
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
  startTimeoutMs = 60_000,
): Promise<Server> {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const tail: string[] = []
  const keep = (line: string) => {
    tail.push(line)
    if (tail.length > 40) tail.shift()
  }
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep)
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    )
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${error.message}\n${tail.join('\n')}`))
    }
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      keep(line)
      const match = LISTENING.exec(line)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.once('exit', (code, signal) =>
      fail(new Error(`${name} exited (${code ?? signal}) before listening`)),
    )
  })
  child.removeAllListeners('exit')
  return { name, url, pid: child.pid ?? 0, output: tail, stop: () => stopChild(child) }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

/** Runs the fiscalbox CLI (`node --import tsx src/cli/main.ts ...`) and returns its standard output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`fiscalbox ${args.join(' ')} failed: ${error.message}\n${stderr}`))
        else resolve(stdout)
      },
    )
  })
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux; undefined elsewhere). Divided by
 * the answers of a run it gives the server's CPU cost per request, which other load on the machine disturbs
 * far less than requests per second.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}

/**
 * CPU seconds every process of the machine has used so far (all cores, /proc/stat: all but idle and iowait);
 * undefined off Linux. Over a run, minus the processes of the bench, it is what other work took.
 */
export function machineCpuSeconds(): number | undefined {
  try {
    const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks.map(Number)
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0)
    return idle === undefined || iowait === undefined ? undefined : busy / CLOCK_TICKS
  } catch {
    return undefined
  }
}

/** USER_HZ: the unit of utime and stime in /proc/PID/stat, 100 on every common Linux build. */
const CLOCK_TICKS = 100

/** Runs `use` on a server once it has started, and stops the server after, whatever happened. */
export async function withServer<T>(start: Promise<Server>, use: (server: Server) => Promise<T>): Promise<T> {
  const server = await start
  try {
    return await use(server)
  } finally {
    await server.stop()
  }
}
