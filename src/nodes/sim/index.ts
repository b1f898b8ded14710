// Simulated CubeFS meta and data nodes for tests: real TCP packets, real HTTP to the master.
export { DEFAULT_FAULT_MESSAGE, type SimTaskInfo } from './faults.js';
export { MasterApiError, MasterHttpClient, MasterUnreachableError, SIM_USER_AGENT, type MasterHttpClientOptions } from './master-http-client.js';
export { SimDataNode, type SimDataNodeOptions, type SimDataPartition, type SimDisk } from './sim-data-node.js';
export { SimMetaNode, type SimMetaNodeOptions, type SimMetaPartition } from './sim-meta-node.js';
export { SimNode, type SimEvent, type SimNodeOptions, type SimNodeState } from './sim-node.js';
export { startSimNodes, type SimNodes, type StartSimNodesOptions } from './start-sim-nodes.js';
