// cfs-cli against the real Go CubeFS master and against cubemaster, case by case (cases.ts):
// one master each, then one metanode and one datanode each. Opt-in: `npm run test:cubefs`
// (the file name does not end in .test.js, so `npm test` never runs it). See README.md.
import { STEPS } from './cases.js';
import { defineSuite } from './suite.js';

defineSuite({
  title: 'cfs-cli: Go master vs cubemaster (single member, one metanode, one datanode)',
  steps: STEPS,
  masters: 1,
  metaNodes: 1,
  dataNodes: 1,
  loopbackOctets: [],
  coverAllCommands: true,
});
