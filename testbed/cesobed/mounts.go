package main

import (
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

const dsTmpfsSize = "100g" // apparent datastore size when the datastore dir is a tmpfs (root only)

// mountTmpfs makes each datastore dir a tmpfs (as root), so that datastoreFull can shrink it to a real ENOSPC,
// and creates the empty /vmfs/volumes mount point the sessions mount over.
func (c *cleanup) mountTmpfs(st *State) {
	if os.Getuid() != 0 {
		return
	}
	for _, d := range st.Datastores {
		if err := syscall.Mount("tmpfs", d.LocalDir, "tmpfs", 0, "size="+dsTmpfsSize+",mode=0755"); err == nil {
			c.mounts = append(c.mounts, d.LocalDir)
		}
	}
	// /etc/rc.local.d: the mount point of the sessions' ESXi boot script dir (esxshell.go); Debian has none.
	for _, d := range []string{"/vmfs", "/vmfs/volumes", "/etc/rc.local.d"} {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			if os.Mkdir(d, 0755) == nil {
				c.vmfsMk = append(c.vmfsMk, d)
			}
		}
	}
}

// removeVmfs removes /vmfs/volumes and /vmfs if we created them and no other cesobed serve is running.
func (c *cleanup) removeVmfs() {
	if len(c.vmfsMk) == 0 || otherServeRunning() {
		return
	}
	for i := len(c.vmfsMk) - 1; i >= 0; i-- {
		_ = os.Remove(c.vmfsMk[i]) // only if empty
	}
}

func otherServeRunning() bool {
	self, _ := os.Executable()
	ents, _ := ioutil.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == os.Getpid() {
			continue
		}
		b, _ := ioutil.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		a := strings.Split(string(b), "\x00")
		if len(a) > 1 && a[1] == "serve" {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); exe == self || filepath.Base(a[0]) == "cesobed" {
				return true
			}
		}
	}
	return false
}

// applyDatastoreFull shrinks (or restores) the tmpfs size of the datastores, so that shell writes get ENOSPC too.
func applyDatastoreFull(dir string, f Faults) {
	st, err := loadState(dir)
	if err != nil || os.Getuid() != 0 {
		return
	}
	for _, d := range st.Datastores {
		var sfs syscall.Statfs_t
		if syscall.Statfs(d.LocalDir, &sfs) != nil || sfs.Type != 0x01021994 { // TMPFS_MAGIC
			continue
		}
		size := dsTmpfsSize
		if f.dsFull(d.Name) {
			used := (sfs.Blocks - sfs.Bfree) * uint64(sfs.Bsize)
			if used < 4096 {
				used = 4096
			}
			size = strconv.FormatUint(used, 10)
		}
		if err := syscall.Mount("tmpfs", d.LocalDir, "tmpfs", syscall.MS_REMOUNT, "size="+size); err != nil {
			fmt.Fprintf(os.Stderr, "cesobed fault: resize tmpfs %s: %v\n", d.LocalDir, err)
		}
	}
}

// enterNamespace gives the calling OS thread (locked) a private mount namespace with /vmfs/volumes/<uuid> binds of
// the datastore dirs and /vmfs/volumes/<name> -> <uuid> symlinks (as on a real host). Children forked from this
// thread inherit it.
func enterNamespace(st *State) error {
	runtime.LockOSThread()
	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %v", err)
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %v", err)
	}
	if _, err := os.Stat("/vmfs/volumes"); err != nil {
		return fmt.Errorf("/vmfs/volumes missing: %v", err)
	}
	if err := syscall.Mount("tmpfs", "/vmfs/volumes", "tmpfs", 0, "size=1m,mode=0755"); err != nil {
		return fmt.Errorf("mount /vmfs/volumes: %v", err)
	}
	for _, d := range st.Datastores {
		mp := filepath.Join("/vmfs/volumes", d.UUID)
		if err := os.Mkdir(mp, 0755); err != nil {
			return err
		}
		if err := syscall.Mount(d.LocalDir, mp, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %v", d.LocalDir, err)
		}
		if err := os.Symlink(d.UUID, filepath.Join("/vmfs/volumes", d.Name)); err != nil {
			return err
		}
	}
	return bindEsxShell(st.Dir)
}
