// The runtime-spec version corral implements: ociVersion of the states it reports.
export const OCI_VERSION = '1.3.0';
