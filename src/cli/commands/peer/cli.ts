// `enclave-elect peer`: run one cluster member (the container entrypoint).
// Every setting is a flag and an environment variable (src/peer/config.ts,
// src/peer/election/election-config.ts, resolved by src/peer/settings.ts);
// SIGTERM/SIGINT leave the cluster gracefully and exit well under a second.

import { hostname } from 'node:os';
import type { CommandModule } from 'yargs';
import { createLogger } from '../../../log/logger.ts';
import { PEER_SETTINGS, resolvePeerConfig } from '../../../peer/config.ts';
import { containerName, looksLikeContainerId } from '../../../peer/default-name.ts';
import { ELECTION_SETTINGS, resolveElectionConfig } from '../../../peer/election/election-config.ts';
import { describeSetting, optionName } from '../../../peer/settings.ts';
import { chooseAdvertiseAddress, startPeer } from '../../../peer/start-peer.ts';

export type PeerOptions = Record<string, string | string[] | undefined>;

export const peerCommand: CommandModule<object, PeerOptions> = {
  command: 'peer',
  // describe: in ../index.ts, so help lists every command without loading it.
  builder: (y) => {
    let parser = y;
    for (const setting of [...Object.values(PEER_SETTINGS), ...Object.values(ELECTION_SETTINGS)]) {
      parser = parser.option(setting.flag, {
        type: 'string',
        describe: describeSetting(setting),
        requiresArg: true,
      });
    }
    return parser.epilog(
      `Precedence: flag, then environment, then default. Bad values exit 2 naming the option, e.g. ${optionName(PEER_SETTINGS.probeIntervalMs)}.`,
    ) as never;
  },
  handler: async (args) => {
    const config = resolvePeerConfig(args);
    const election = resolveElectionConfig(args);
    if (args.name === undefined && !process.env.PEER_NAME) {
      // In a scaled compose service the hostname is a container id: prefer the container name.
      config.name = (await containerName(hostname(), chooseAdvertiseAddress(config))) ?? config.name;
    }
    // Every line carries the epoch this peer knows (DESIGN.md §6).
    let epoch: () => number = () => 0;
    const logger = createLogger({ mixin: () => ({ epoch: epoch() }) });
    if (config.name === hostname() && looksLikeContainerId(config.name)) {
      logger.warn({
        event: 'peer.name-fallback',
        name: config.name,
        reason: 'no container name from reverse DNS; set --name or PEER_NAME for a readable one',
      });
    }
    const peer = await startPeer(config, logger, { election });
    epoch = () => peer.epoch();
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        logger.info({ event: 'peer.signal', signal, peer: config.name });
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        // A second signal while leaving falls through to the default: exit now.
        void peer.stop().then(resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};
