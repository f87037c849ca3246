import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Helpers to drive the real `fiscalbox` CLI as a child process (the same entry point as bin/fiscalbox.js,
 * through tsx). Shared by test/cli and test/multinode; not a test file itself.
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const CLI = ['--import', 'tsx', 'src/cli/main.ts']

/** The environment of a CLI run: the test's own variables win, inherited FISCALBOX_* and PORT are dropped. */
export function cliEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('FISCALBOX_') || key === 'DATABASE_URL' || key === 'PORT') continue
    // node --test passes its own flags to children through NODE_OPTIONS/NODE_TEST_CONTEXT: keep them out.
    if (key === 'NODE_TEST_CONTEXT' || key === 'NODE_OPTIONS') continue
    env[key] = value
  }
  env.LOG_LEVEL = 'warn'
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `fiscalbox ...args` to completion. A run that hangs is killed after timeoutMs and reported as such. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { timeoutMs?: number } = {},
): Promise<CliResult> {
  return runProcess(process.execPath, [...CLI, ...args], env, options.timeoutMs ?? 180_000)
}

/** Runs a shell command line with bash -c, e.g. the curl printed by `fiscalbox serve`. */
export function runBash(commandLine: string, timeoutMs = 180_000): Promise<CliResult> {
  return runProcess('bash', ['-c', commandLine], cliEnv({}), timeoutMs)
}

function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      )
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr })
    })
  })
}

/** A long-running `fiscalbox` command (a simulator) that has printed the URL it listens on. */
export interface ListeningCommand {
  child: ChildProcess
  url: string
  stdout(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

/**
 * Starts `fiscalbox ...args` and resolves once it prints `listening on http://127.0.0.1:PORT`; rejects
 * with its output if it exits first.
 */
export async function startListening(args: string[], env = cliEnv({})): Promise<ListeningCommand> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
      if (match) resolveUrl(match[1] as string)
    })
    void exited.then((code) => reject(new Error(`exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`)))
  })
  return {
    child,
    url,
    stdout: () => stdout,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

export interface DemoCashbox {
  cashboxId: string
  accessToken: string
  queueId: string
  /** The curl command exactly as printed, continuation lines included. */
  curl: string
}

/** POST /v2/sign on a running server with the demo cash box's credentials and a fresh operation id. */
export const signWithDemo = (baseUrl: string, demo: DemoCashbox, body: unknown): Promise<Response> =>
  fetch(`${baseUrl}/v2/sign`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-cashbox-id': demo.cashboxId,
      'x-cashbox-accesstoken': demo.accessToken,
      'x-operation-id': randomUUID(),
    },
    body: JSON.stringify(body),
  })

/** How long stop() waits for the exit after its signal before it kills the server and fails. */
export const STOP_GUARD_MS = 30_000

export interface Server {
  child: ChildProcess
  baseUrl: string
  port: number
  demo: DemoCashbox | undefined
  output(): { stdout: string; stderr: string }
  /** Sends the signal (SIGTERM by default) and resolves with the exit; rejects if it hangs (STOP_GUARD_MS). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** The outcome of `fiscalbox serve`: either it came up (and keeps running) or it exited. */
export type ServeOutcome =
  | { started: true; server: Server }
  | { started: false; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

const LISTENING = /fiscalbox listening on (http:\/\/127\.0\.0\.1:(\d+))/
const BANNER_END = /OpenAPI: \S+\n/
const CURL = /^curl [\s\S]*?-d '[^'\n]*'$/m

function parseDemo(stdout: string): DemoCashbox | undefined {
  if (!stdout.includes('demo cash box')) return undefined
  const field = (name: string) => new RegExp(`^\\s+${name}:\\s+(\\S+)$`, 'm').exec(stdout)?.[1]
  const cashboxId = field('cashboxId')
  const accessToken = field('accessToken')
  const queueId = field('queueId')
  const curl = CURL.exec(stdout)?.[0]
  if (!cashboxId || !accessToken || !queueId || !curl) return undefined
  return { cashboxId, accessToken, queueId, curl }
}

/**
 * Starts `fiscalbox serve` and resolves once its banner is complete (with the demo block when one is
 * announced) or once the process exits, whichever comes first. A process that does neither within
 * timeoutMs is killed and reported.
 */
export function startServe(env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<ServeOutcome> {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.on('close', (code, signal) => resolveExit({ code, signal }))
  })
  return new Promise<ServeOutcome>((resolvePromise, reject) => {
    let settled = false
    const settle = (outcome: ServeOutcome | Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (outcome instanceof Error) reject(outcome)
      else resolvePromise(outcome)
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      settle(new Error(`fiscalbox serve neither started nor exited\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    const check = () => {
      const listening = LISTENING.exec(stdout)
      if (!listening || !BANNER_END.test(stdout)) return
      const announcesDemo = stdout.includes('demo cash box')
      const demo = parseDemo(stdout)
      if (announcesDemo && !demo) return // the rest of the banner is still on its way
      const baseUrl = listening[1] as string
      settle({
        started: true,
        server: {
          child,
          baseUrl,
          port: Number(listening[2]),
          demo,
          output: () => ({ stdout, stderr }),
          exited,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode !== null || child.signalCode !== null) return exited
            child.kill(signal)
            // A hang guard, not a measurement: a server that ignores the signal this long is stuck.
            let guard: NodeJS.Timeout | undefined
            const stuck = new Promise<never>((_, rejectStop) => {
              guard = setTimeout(() => {
                child.kill('SIGKILL')
                rejectStop(new Error(`fiscalbox serve did not exit within ${STOP_GUARD_MS} ms of ${signal}`))
              }, STOP_GUARD_MS)
            })
            return Promise.race([exited, stuck]).finally(() => clearTimeout(guard))
          },
        },
      })
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      check()
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', (error) => settle(error))
    void exited.then(({ code, signal }) => settle({ started: false, code, signal, stdout, stderr }))
  })
}

/** startServe for callers that need a running server: anything else is an error with the output. */
export async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const outcome = await startServe(env)
  if (!outcome.started) {
    throw new Error(
      `fiscalbox serve exited with ${outcome.code ?? outcome.signal} before listening\nstdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`,
    )
  }
  return outcome.server
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
