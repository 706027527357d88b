// A cluster laid out exactly as `cluster up` lays it out (same specs, labels,
// network, aliases), whose containers run a stand-in instead of the real
// peer: a UDP echo on 7946 and an admin server on 7947 serving a /status
// document the test controls. The integration tests use it to exercise the
// orchestrator against the real engine without depending on the peer's
// election. Everything carries the test's run label.
import type Docker from 'dockerode';
import {
  type ClusterSettings,
  enclaveContainerSpec,
  networkSpec,
  peerContainerSpec,
  type VolumeKind,
  volumeSpec,
} from '../../src/orchestrator/cluster-spec.ts';
import { createMainNetwork } from '../../src/orchestrator/cluster-up.ts';
import { execInContainer } from '../../src/orchestrator/container-exec.ts';
import { LABEL } from '../../src/orchestrator/labels.ts';

/** The stand-in: echoes datagrams, serves /status with STANDIN_NAME and STANDIN_LEADER, exits on SIGTERM. */
export const STANDIN_SCRIPT = [
  "const dgram=require('node:dgram'),http=require('node:http');",
  "const name=process.env.STANDIN_NAME||require('node:os').hostname(),leader=process.env.STANDIN_LEADER||null;",
  "const u=dgram.createSocket('udp4');u.on('message',(m,r)=>u.send(m,r.port,r.address));u.bind(7946);",
  "http.createServer((q,s)=>{s.setHeader('content-type','application/json');s.end(JSON.stringify({",
  "name,incarnation:1,address:'',members:[{name,state:'alive'}],counters:{dropped:{malformed:1}},",
  "leader:leader?{name:leader,epoch:3,seq:0,leaseEndsAt:Date.now()+2000,policy:'vrf',verified:true,certificate:'x'}:null,",
  "isLeader:name===leader,enclave:{url:'http://enclave:8000',trusted:true,checksum:'c',pinnedChecksum:'c',error:null}}))}).listen(7947);",
  "process.on('SIGTERM',()=>process.exit(0));",
  "console.log(JSON.stringify({level:'info',event:'standin.started',peer:name}));console.log('plain line from '+name);",
].join('');

export async function startStandinCluster(
  docker: Docker,
  options: { cluster: string; image: string; runId: string; peers: number; leader: string | null },
): Promise<ClusterSettings> {
  const settings: ClusterSettings = {
    cluster: options.cluster,
    image: options.image,
    policy: 'vrf',
    leaseMs: 2000,
    extraLabels: { 'io.enclave-elect.test': options.runId },
  };
  await createMainNetwork(docker, networkSpec(settings));
  // The specs bind the cluster's named volumes: create them labelled, or Docker
  // would create them unlabelled and no sweep would find them.
  for (const kind of ['pki', 'trust', 'state', 'join'] as VolumeKind[])
    await docker.createVolume(volumeSpec(settings, kind));
  const specs = [
    { spec: enclaveContainerSpec(settings), name: 'enclave' },
    ...Array.from({ length: options.peers }, (_, i) => ({
      spec: peerContainerSpec(settings, i + 1),
      name: `peer-${i + 1}`,
    })),
  ];
  for (const { spec, name } of specs) {
    const container = await docker.createContainer({
      ...spec,
      Entrypoint: ['node', '-e', STANDIN_SCRIPT],
      Cmd: [],
      Env: [`STANDIN_NAME=${name}`, ...(options.leader ? [`STANDIN_LEADER=${options.leader}`] : [])],
      // A stand-in has no HEALTHCHECK to pass; the image's would ask 7947 too, which is fine either way.
    });
    await container.start();
  }
  return settings;
}

/** Send one datagram from inside `from` to address:7946 and wait for the echo: 'echoed' or 'timeout'. */
export async function udpProbe(
  docker: Docker,
  from: string,
  address: string,
  timeoutMs = 1000,
): Promise<string> {
  const script = [
    "const s=require('node:dgram').createSocket('udp4');",
    `const t=setTimeout(()=>{process.stdout.write('timeout');s.close()},${timeoutMs});`,
    "s.on('message',()=>{clearTimeout(t);process.stdout.write('echoed');s.close()});",
    `s.send('ping',7946,${JSON.stringify(address)});`,
  ].join('');
  const result = await execInContainer(docker, from, ['node', '-e', script], timeoutMs + 5000);
  return result.stdout.trim() || `error: ${result.stderr.trim()}`;
}

/** The container's address on each of its networks. */
export async function addresses(docker: Docker, container: string): Promise<Record<string, string>> {
  const info = await docker.getContainer(container).inspect();
  return Object.fromEntries(Object.entries(info.NetworkSettings.Networks).map(([n, e]) => [n, e.IPAddress]));
}

export function clusterFilter(cluster: string): string {
  return JSON.stringify({ label: [`${LABEL.cluster}=${cluster}`] });
}
