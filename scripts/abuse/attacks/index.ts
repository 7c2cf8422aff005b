/** Every attack of the suite, in the order it runs (memory-heavy ones last). */
import type { Attack } from '../attack.js';
import { bigBodies, dbErrorText, hugeEventsList } from './harpoon-bodies.js';
import { absoluteForm, pipelinedGets, refusedBodies } from './harpoon-connections.js';
import { bigPages, longPolls } from './harpoon-reads.js';
import { unpublishable } from './relay.js';
import { ackProbing, resyncFlood, routerBytes } from './router-agents.js';
import { deepFrame, fuzzFrames, hugeHeartbeats, oversizedFrame } from './router-frames.js';
import { plainHttp, slowlorisBoth } from './router-port.js';

export const ATTACKS: readonly Attack[] = [
  deepFrame,
  unpublishable,
  pipelinedGets,
  resyncFlood,
  longPolls,
  hugeHeartbeats,
  bigBodies,
  bigPages,
  plainHttp,
  refusedBodies,
  dbErrorText,
  absoluteForm,
  routerBytes,
  ackProbing,
  hugeEventsList,
  slowlorisBoth,
  oversizedFrame,
  fuzzFrames,
];
