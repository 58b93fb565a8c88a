/**
 * Java views of the records and map entries the C headers under bpf/src define, checked field by field against the BPF object's BTF.
 */
package io.moonwalk.bpf.layout;
