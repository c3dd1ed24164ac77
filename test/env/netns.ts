/**
 * The project's own test hosts: one network namespace per Kubernetes cluster and run, in
 * which that cluster's etcd and kube-apiserver run, joined to the root namespace by a veth
 * pair:
 *
 *   root namespace                                      namespace ck8s-<run>-<dc>
 *   lo         10.213.<n>.1/32                          eth0  10.213.<n>.2/30
 *   ck8s-<n>-h (no IPv4 address) <------- veth -------> eth0
 *              route 10.213.<n>.2/32 src 10.213.<n>.1
 *
 * The root side's address sits on `lo`, not on the veth end: an IPv4 address on an up,
 * non-loopback interface would be one more "private address" to programs that pick the
 * machine's single private address themselves (a Consul agent or `consul validate` without
 * bind_addr fails with "Multiple private IPv4 addresses found"). The namespace has no default
 * route: from inside it only its own loopback and 10.213.<n>.1 (where kwok's kubelet endpoint
 * listens) are reachable. The main kubeconfig names the API server https://10.213.<n>.2:<port>,
 * an address that is not loopback (so consulk8s treats the clusters as real ones) and belongs
 * to nothing but this run. No IPv6 addresses are configured on either end.
 *
 * Each test host is recorded in <workDir>/netns/<dc> (key=value lines, read by watchdog.sh
 * too) before anything of it is made, so every teardown path finds and deletes whatever of it
 * exists. Needs root (ip netns add, ip link add) and iproute2's `ip`.
 */
import {execFileSync} from 'node:child_process'
import {randomInt} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {assertStartsAllowed} from './procs.js'
import type {TestHost} from './types.js'

export type {TestHost} from './types.js'

const SUBNETS = '10.213'
const NAME = /^ck8s-[a-z0-9-]+$/
const recordsDir = (workDir: string) => join(workDir, 'netns')
const netnsPath = (netns: string) => join('/run/netns', netns)

export class IpCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`\`ip ${args.join(' ')}\` failed: ${stderr || 'no message'}`)
  }
}

function ip(args: string[]): string {
  try {
    return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & {stderr?: string}
    if (failure.code === 'ENOENT') throw new Error('the `ip` command (iproute2) is not installed (Debian: apt-get install iproute2)')
    throw new IpCommandError(args, String(failure.stderr ?? failure.message).trim())
  }
}

const WHY = "the test environment runs each cluster's etcd and kube-apiserver in a network namespace of its own (`ip netns add` + a veth pair)"

/** <n> of every 10.213.<n>.x address, route and ck8s-<n>-h interface in the root namespace. */
export function usedSubnets(addresses: string, routes: string, links: string): Set<number> {
  const used = new Set<number>()
  const pattern = new RegExp(`\\b${SUBNETS.replace('.', '\\.')}\\.(\\d{1,3})\\.`, 'g')
  for (const text of [addresses, routes]) for (const match of text.matchAll(pattern)) used.add(Number(match[1]))
  for (const match of links.matchAll(/\bck8s-(\d{1,3})-h\b/g)) used.add(Number(match[1]))
  return used
}

function freeSubnets(): number[] {
  const used = usedSubnets(ip(['-o', '-4', 'addr', 'show']), ip(['-o', '-4', 'route', 'show', 'table', 'all']), ip(['-o', 'link', 'show']))
  const free = Array.from({length: 256}, (_, n) => n).filter((n) => !used.has(n))
  // Random order: two runs starting at the same moment rarely try the same one (and when they
  // do, the interface name ck8s-<n>-h makes the second one's `ip link add` fail: it moves on).
  for (let i = free.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[free[i], free[j]] = [free[j]!, free[i]!]
  }
  return free
}

function writeRecord(workDir: string, cluster: string, host: Partial<TestHost>): void {
  mkdirSync(recordsDir(workDir), {recursive: true})
  const lines = Object.entries(host).map(([key, value]) => `${key}=${value}`)
  writeFileSync(join(recordsDir(workDir), cluster), lines.join('\n') + '\n', {mode: 0o600})
}

function readRecords(workDir: string): Array<{file: string; host: Partial<TestHost>}> {
  if (!existsSync(recordsDir(workDir))) return []
  return readdirSync(recordsDir(workDir)).map((name) => {
    const file = join(recordsDir(workDir), name)
    const host: Record<string, string> = {}
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const at = line.indexOf('=')
      if (at > 0) host[line.slice(0, at)] = line.slice(at + 1)
    }
    return {file, host: host as Partial<TestHost>}
  })
}

/**
 * Makes the test host of one cluster: namespace ck8s-<runId>-<cluster> with `lo` up and a veth
 * pair on a free 10.213.<n>.0/30. Throws naming the `ip` command that failed.
 */
export function createTestHost(workDir: string, cluster: string, runId: string): TestHost {
  assertStartsAllowed(workDir, `the network namespace of ${cluster}`)
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(`${WHY}, which needs root; this process runs as uid ${process.getuid()}. Run the tests as root (as CI does).`)
  }
  const netns = `ck8s-${runId}-${cluster}`
  if (!NAME.test(netns)) throw new Error(`invalid network namespace name ${netns}`)
  writeRecord(workDir, cluster, {netns})
  try {
    ip(['netns', 'add', netns])
  } catch (error) {
    const hint = error instanceof IpCommandError ? 'This needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN (not an unprivileged container).' : ''
    throw new Error(`cannot create network namespace ${netns}: ${error instanceof Error ? error.message : String(error)}; ${WHY}. ${hint}`.trim())
  }
  ip(['-n', netns, 'link', 'set', 'lo', 'up'])
  for (const n of freeSubnets()) {
    const host: TestHost = {netns, address: `${SUBNETS}.${n}.2`, hostAddress: `${SUBNETS}.${n}.1`, hostInterface: `ck8s-${n}-h`}
    try {
      ip(['link', 'add', host.hostInterface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns])
    } catch (error) {
      if (error instanceof IpCommandError && /exists/i.test(error.stderr)) continue // taken by another run meanwhile
      throw error
    }
    writeRecord(workDir, cluster, host)
    ip(['link', 'set', host.hostInterface, 'addrgenmode', 'none'])
    ip(['-n', netns, 'link', 'set', 'eth0', 'addrgenmode', 'none'])
    ip(['addr', 'add', `${host.hostAddress}/32`, 'dev', 'lo'])
    ip(['link', 'set', host.hostInterface, 'up'])
    ip(['route', 'add', `${host.address}/32`, 'dev', host.hostInterface, 'src', host.hostAddress])
    ip(['-n', netns, 'addr', 'add', `${host.address}/30`, 'dev', 'eth0'])
    ip(['-n', netns, 'link', 'set', 'eth0', 'up'])
    return host
  }
  throw new Error(`no free ${SUBNETS}.<n>.0/30 subnet left in the root network namespace (see \`ip -4 addr\`, \`ip netns list\`)`)
}

export function testHostExists(host: Pick<TestHost, 'netns'>): boolean {
  return existsSync(netnsPath(host.netns))
}

/** Names of the recorded test hosts' namespaces -> whether each still exists. */
export function testHostStatus(workDir: string): Record<string, boolean> {
  return Object.fromEntries(
    readRecords(workDir)
      .filter(({host}) => host.netns)
      .map(({host}) => [`netns ${host.netns}`, testHostExists({netns: host.netns!})]),
  )
}

function pidsIn(netns: string): number[] {
  try {
    return ip(['netns', 'pids', netns])
      .split('\n')
      .map((line) => Number.parseInt(line, 10))
      .filter((pid) => pid > 0)
  } catch {
    return []
  }
}

/**
 * Kills whatever still runs in the recorded namespaces (the environment's processes were
 * stopped gracefully before), deletes the namespaces (which removes their veth pairs), any
 * root-side interface left over and the root side's address on `lo`, and forgets the records. Errors are collected and thrown at the end.
 */
export async function deleteTestHosts(workDir: string): Promise<void> {
  const failures: string[] = []
  for (const {file, host} of readRecords(workDir)) {
    const before = failures.length
    if (host.netns && NAME.test(host.netns) && testHostExists({netns: host.netns})) {
      for (let round = 0; round < 50; round++) {
        const pids = pidsIn(host.netns)
        if (pids.length === 0) break
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // gone already
          }
        }
        await sleep(100)
      }
      try {
        ip(['netns', 'del', host.netns])
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error))
      }
    }
    if (host.hostInterface && NAME.test(host.hostInterface)) {
      // Gone with the namespace as a rule; left over when setup stopped between the two steps.
      for (let round = 0; round < 20 && linkExists(host.hostInterface); round++) {
        try {
          ip(['link', 'del', host.hostInterface])
        } catch {
          await sleep(100)
        }
      }
      if (linkExists(host.hostInterface)) failures.push(`interface ${host.hostInterface} could not be deleted`)
    }
    if (host.hostAddress && /^10\.213\.\d{1,3}\.1$/.test(host.hostAddress) && onLoopback(host.hostAddress)) {
      try {
        ip(['addr', 'del', `${host.hostAddress}/32`, 'dev', 'lo'])
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error))
      }
    }
    if (failures.length === before) rmSync(file, {force: true}) // else kept for the next teardown
  }
  if (failures.length > 0) throw new Error(`removing the test hosts' network namespaces: ${failures.join('; ')}`)
}

function onLoopback(address: string): boolean {
  return ip(['-o', '-4', 'addr', 'show', 'dev', 'lo']).includes(` ${address}/32 `)
}

function linkExists(name: string): boolean {
  try {
    ip(['link', 'show', 'dev', name])
    return true
  } catch {
    return false
  }
}
