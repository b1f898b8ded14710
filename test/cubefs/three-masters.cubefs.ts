// cfs-cli against a 3-master Go CubeFS cluster and a 3-master cubemaster, case by case (the same
// cases.ts as the single-member suite): cfs-cli is given all three addresses and finds the
// leader as the Go SDK does; followers forward or answer. Opt-in: `npm run test:cubefs`.
import { STEPS } from './cases.js';
import { defineSuite } from './suite.js';

defineSuite({
  title: 'cfs-cli: 3 Go masters vs 3 cubemasters (one metanode, one datanode)',
  steps: STEPS,
  masters: 3,
  metaNodes: 1,
  dataNodes: 1,
  loopbackOctets: [93, 94, 95],
  coverAllCommands: true,
});
