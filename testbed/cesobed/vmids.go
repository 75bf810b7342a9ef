package main

import (
	"bytes"
	"regexp"
	"strings"
)

// VM ids as a real host shows them. hostd's VM managed object ids are plain numbers, the same in the API and in
// `vim-cmd vmsvc/getallvms` (e.g. "1", "496"; apache/vcl's VIM_SSH.pm quotes getallvms rows with ids 496, 512,
// https://github.com/apache/vcl/blob/master/managementnode/lib/VCL/Module/Provisioning/VMware/VIM_SSH.pm), while
// vcsim names them "vm-N" (simulator/registry.go newReference: "<prefix>-<counter>" for every type). The test bed
// keeps vcsim's ids inside and translates at its edges: the SOAP front rewrites VirtualMachine references in
// requests (N -> vm-N) and responses (vm-N -> N); the ESXi tools print vmid(ref) and accept either form (vmRef).

var (
	vmRefOutRe  = regexp.MustCompile(`(type="VirtualMachine"[^>]*>)vm-(\d+)<`)
	vmRefTextRe = regexp.MustCompile(`VirtualMachine:vm-(\d+)`)
	vmRefInRe   = regexp.MustCompile(`(type="VirtualMachine"[^>]*>)\s*(\d+)\s*<`)
	vmTypeAttr  = []byte(`"VirtualMachine`)
)

// vmidsOut rewrites a SOAP response for clients: <obj type="VirtualMachine">vm-9</obj> -> 9, and "VirtualMachine:vm-9"
// in fault texts -> "VirtualMachine:9".
func vmidsOut(b []byte) []byte {
	if !bytes.Contains(b, vmTypeAttr) && !bytes.Contains(b, []byte("VirtualMachine:vm-")) {
		return b
	}
	b = vmRefOutRe.ReplaceAll(b, []byte("${1}${2}<"))
	return vmRefTextRe.ReplaceAll(b, []byte("VirtualMachine:${1}"))
}

// vmidsIn rewrites a SOAP request for vcsim: <_this type="VirtualMachine">9</_this> -> vm-9.
func vmidsIn(b []byte) []byte {
	if !bytes.Contains(b, vmTypeAttr) {
		return b
	}
	return vmRefInRe.ReplaceAll(b, []byte("${1}vm-${2}<"))
}

// vmid is the id the tools print for a VM moref value (vm-9 -> 9).
func vmid(value string) string { return strings.TrimPrefix(value, "vm-") }
