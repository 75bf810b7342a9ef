package main

import (
	"os"
	"path/filepath"
	"strings"
)

// vcsim (govmomi 0.24) deletes a removed snapshot's files by their layoutEx keys, but it renumbers those keys whenever
// it refreshes a VM's storage info: with two snapshots, or one made before a refresh, removing a snapshot deletes
// whichever file now has the old key, often the VM's own -flat.vmdk. A real host only ever consolidates the
// snapshot's delta. guardSnapshotRemoval hard-links every datastore file except snapshot state (.vmsn) aside before a
// removal and puts back whatever vcsim deleted, so removals act as on a host: snapshot metadata goes, disks stay.
func guardSnapshotRemoval(st *State) (restore func()) {
	var kept [][2]string
	var asides []string
	for _, d := range st.Datastores {
		root := d.LocalDir
		// Inside the datastore itself: hard links cannot cross file systems (a datastore may be its own tmpfs).
		aside, err := os.MkdirTemp(root, ".cesobed-snapguard-")
		if err != nil {
			continue
		}
		asides = append(asides, aside)
		_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			if info.IsDir() && strings.HasPrefix(info.Name(), ".cesobed-snapguard-") {
				return filepath.SkipDir
			}
			if !info.Mode().IsRegular() || strings.HasSuffix(p, ".vmsn") {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			dst := filepath.Join(aside, rel)
			if os.MkdirAll(filepath.Dir(dst), 0o755) == nil && os.Link(p, dst) == nil {
				kept = append(kept, [2]string{p, dst})
			}
			return nil
		})
	}
	return func() {
		for _, k := range kept {
			if _, err := os.Stat(k[0]); os.IsNotExist(err) {
				if _, err := os.Stat(filepath.Dir(k[0])); err == nil {
					_ = os.Link(k[1], k[0])
				}
			}
		}
		for _, a := range asides {
			_ = os.RemoveAll(a)
		}
	}
}
