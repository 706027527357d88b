// An in-memory Docker engine with the part of dockerode's API the
// orchestrator uses: containers with labels and states, networks, volumes,
// images. Label filters behave like the engine's (every `key=value` must match).
// Calls are recorded, so tests can assert on what would have been sent.
import type { Readable } from 'node:stream';
import type { DockerClient } from '../../src/orchestrator/docker-client.ts';

export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  state: string;
  /** network name -> { ip, aliases } */
  networks: Record<string, { ip: string; aliases: string[] }>;
  logs?: Buffer;
  spec?: unknown;
}

export interface FakeNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
  subnet?: string;
  spec?: unknown;
}

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });
}

function matches(labels: Record<string, string>, filters: unknown): boolean {
  if (typeof filters !== 'string') return true;
  const wanted = (JSON.parse(filters) as { label?: string[] }).label ?? [];
  return wanted.every((entry) => {
    const eq = entry.indexOf('=');
    return eq < 0 ? entry in labels : labels[entry.slice(0, eq)] === entry.slice(eq + 1);
  });
}

export class FakeDocker {
  containers: FakeContainer[] = [];
  networks: FakeNetwork[] = [];
  volumes: { name: string; labels: Record<string, string> }[] = [];
  images = new Set<string>(['enclave-elect:local']);
  calls: string[] = [];
  reachable = true;
  #next = 1;

  nextId(): string {
    return (this.#next++).toString(16).padStart(12, '0').repeat(2);
  }

  addContainer(partial: Partial<FakeContainer> & { name: string }): FakeContainer {
    const container: FakeContainer = {
      id: this.nextId(),
      image: 'enclave-elect:local',
      labels: {},
      state: 'running',
      networks: {},
      ...partial,
    };
    this.containers.push(container);
    return container;
  }

  addNetwork(name: string, labels: Record<string, string>): FakeNetwork {
    const network = { id: this.nextId(), name, labels };
    this.networks.push(network);
    return network;
  }

  container(idOrName: string): FakeContainer {
    const found = this.containers.find((c) => c.id === idOrName || c.name === idOrName);
    if (!found) throw httpError(404, `No such container: ${idOrName}`);
    return found;
  }

  network(idOrName: string): FakeNetwork {
    const found = this.networks.find((n) => n.id === idOrName || n.name === idOrName);
    if (!found) throw httpError(404, `network ${idOrName} not found`);
    return found;
  }

  /** The fake as the orchestrator's client type. */
  get client(): DockerClient {
    return this as unknown as DockerClient;
  }

  async ping() {
    if (!this.reachable)
      throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
    return 'OK';
  }

  async listContainers(options: { all?: boolean; filters?: string } = {}) {
    return this.containers
      .filter((c) => (options.all || c.state === 'running') && matches(c.labels, options.filters))
      .map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: c.image,
        Labels: c.labels,
        State: c.state,
        Status: c.state,
        NetworkSettings: {
          Networks: Object.fromEntries(Object.entries(c.networks).map(([n, e]) => [n, { IPAddress: e.ip }])),
        },
      }));
  }

  getContainer(id: string) {
    const act = (name: string, accepts: string[], next: string) => async () => {
      const c = this.container(id);
      this.calls.push(`${name} ${c.name}`);
      if (!accepts.includes(c.state)) throw httpError(409, `Container ${c.id} is ${c.state}`);
      c.state = next;
    };
    return {
      id,
      inspect: async () => {
        const c = this.container(id);
        return {
          Id: c.id,
          Name: `/${c.name}`,
          State: { Status: c.state, Running: c.state === 'running' },
          Config: { Labels: c.labels },
          NetworkSettings: {
            Networks: Object.fromEntries(
              Object.entries(c.networks).map(([n, e]) => [
                n,
                { IPAddress: e.ip, Aliases: [...e.aliases, c.id.slice(0, 12)] },
              ]),
            ),
          },
        };
      },
      stop: act('stop', ['running'], 'exited'),
      kill: async (options: { signal?: string } = {}) => {
        await act(`kill ${options.signal ?? 'SIGKILL'}`, ['running', 'paused'], 'exited')();
      },
      pause: act('pause', ['running'], 'paused'),
      unpause: act('unpause', ['paused'], 'running'),
      restart: act('restart', ['running', 'exited', 'created'], 'running'),
      start: act('start', ['created', 'exited'], 'running'),
      wait: async () => {
        const c = this.container(id);
        c.state = 'exited';
        return { StatusCode: Number(c.labels['fake.exit-code'] ?? 0) };
      },
      logs: async (): Promise<Buffer | Readable> => this.container(id).logs ?? Buffer.alloc(0),
      remove: async () => {
        const c = this.container(id);
        this.calls.push(`remove ${c.name}`);
        this.containers = this.containers.filter((x) => x !== c);
      },
    };
  }

  async createContainer(spec: {
    name: string;
    Image: string;
    Labels?: Record<string, string>;
    HostConfig?: { NetworkMode?: string };
    NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] }> };
  }) {
    if (!this.images.has(spec.Image)) throw httpError(404, `No such image: ${spec.Image}`);
    if (this.containers.some((c) => c.name === spec.name))
      throw httpError(409, `Conflict. The container name "/${spec.name}" is already in use`);
    const networks: FakeContainer['networks'] = {};
    for (const [name, endpoint] of Object.entries(spec.NetworkingConfig?.EndpointsConfig ?? {})) {
      networks[name] = { ip: `10.0.0.${this.containers.length + 2}`, aliases: endpoint.Aliases ?? [] };
    }
    const c = this.addContainer({
      name: spec.name,
      image: spec.Image,
      labels: spec.Labels ?? {},
      state: 'created',
      networks,
      spec,
    });
    this.calls.push(`create ${spec.name}`);
    return this.getContainer(c.id);
  }

  async listNetworks(options: { filters?: string } = {}) {
    return this.networks
      .filter((n) => matches(n.labels, options.filters))
      .map((n) => ({ Id: n.id, Name: n.name, Labels: n.labels }));
  }

  getNetwork(idOrName: string) {
    return {
      inspect: async () => {
        const n = this.network(idOrName);
        return {
          Id: n.id,
          Name: n.name,
          Labels: n.labels,
          IPAM: { Config: [{ Subnet: n.subnet ?? '10.0.0.0/24', Gateway: '10.0.0.1' }] },
        };
      },
      connect: async (options: {
        Container: string;
        EndpointConfig?: { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string } };
      }) => {
        const n = this.network(idOrName);
        const c = this.container(options.Container);
        this.calls.push(`connect ${c.name} ${n.name}`);
        c.networks[n.name] = {
          ip:
            options.EndpointConfig?.IPAMConfig?.IPv4Address ??
            `10.9.${this.networks.indexOf(n)}.${Object.keys(c.networks).length + 2}`,
          aliases: options.EndpointConfig?.Aliases ?? [],
        };
      },
      disconnect: async (options: { Container: string }) => {
        const n = this.network(idOrName);
        const c = this.container(options.Container);
        this.calls.push(`disconnect ${c.name} ${n.name}`);
        delete c.networks[n.name];
      },
      remove: async () => {
        const n = this.network(idOrName);
        this.calls.push(`remove network ${n.name}`);
        this.networks = this.networks.filter((x) => x !== n);
      },
    };
  }

  async createNetwork(spec: {
    Name: string;
    Labels?: Record<string, string>;
    IPAM?: { Config?: { Subnet?: string }[] };
  }) {
    if (this.networks.some((n) => n.name === spec.Name))
      throw httpError(409, `network with name ${spec.Name} already exists`);
    const network = this.addNetwork(spec.Name, spec.Labels ?? {});
    network.spec = spec;
    const subnet = spec.IPAM?.Config?.[0]?.Subnet;
    if (subnet) network.subnet = subnet;
    this.calls.push(`create network ${spec.Name}${subnet ? ` ${subnet}` : ''}`);
    return { id: network.id };
  }

  async listVolumes(options: { filters?: string } = {}) {
    return {
      Volumes: this.volumes
        .filter((v) => matches(v.labels, options.filters))
        .map((v) => ({ Name: v.name, Labels: v.labels })),
    };
  }

  getVolume(name: string) {
    return {
      remove: async () => {
        this.calls.push(`remove volume ${name}`);
        this.volumes = this.volumes.filter((v) => v.name !== name);
      },
    };
  }

  async createVolume(spec: { Name: string; Labels?: Record<string, string> }) {
    this.volumes.push({ name: spec.Name, labels: spec.Labels ?? {} });
    this.calls.push(`create volume ${spec.Name}`);
    return {};
  }

  getImage(name: string) {
    return {
      inspect: async () => {
        if (!this.images.has(name)) throw httpError(404, `No such image: ${name}`);
        return { Id: `sha256:${name}` };
      },
    };
  }
}
