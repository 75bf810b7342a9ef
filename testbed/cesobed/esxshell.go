package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The ESXi shell's scheduler files (SPEC.md "Cron and boot scripts"): root's crontab
// /var/spool/cron/crontabs/root, busybox crond's pid file /var/run/crond.pid (edits take effect after
// `kill -HUP $(cat /var/run/crond.pid)`, as ESXi backup schedulers such as ghettoVCB document) and the boot script
// /etc/rc.local.d/local.sh (ESXi keeps it over reboots; crontab edits are lost at reboot). In the test bed they live in
// STATEDIR/esx and every SSH session sees them at the real paths (bind mounts in its private namespace, as root).
// The crond is serve itself (its pid is in crond.pid, SIGHUP is a no-op since the crontab is read at every tick);
// `cesobed cron-tick` runs what is due at a given minute, so tests need not wait.

const stockLocalSh = `#!/bin/sh

# local configuration options

# Note: modify at your own risk!  If you do/use anything in this
# script that is not part of a stable API (relying on files to be in
# specific places, specific tools, specific output, etc) there is a
# possibility you will end up with a broken system after patching or
# upgrading.  Changes are not supported unless under direction of
# VMware support.

# Note: This script will not be run when UEFI secure boot is enabled.

exit 0
`

// esxShellBinds: STATEDIR/esx/<dir> -> the path sessions see.
func esxShellBinds(dir string) [][2]string {
	e := filepath.Join(dir, "esx")
	return [][2]string{{filepath.Join(e, "spool"), "/var/spool"}, {filepath.Join(e, "run"), "/var/run"},
		{filepath.Join(e, "rc.local.d"), "/etc/rc.local.d"}}
}

func crontabFile(dir string) string {
	return filepath.Join(dir, "esx", "spool", "cron", "crontabs", "root")
}

// setupEsxShell creates the files of a fresh host: an empty root crontab, crond.pid (serve's pid), ESXi's stock local.sh.
func setupEsxShell(dir string, pid int) error {
	for _, d := range []string{filepath.Dir(crontabFile(dir)), filepath.Join(dir, "esx", "run"), filepath.Join(dir, "esx", "rc.local.d")} {
		if err := os.MkdirAll(d, 0755); err != nil {
			return err
		}
	}
	if err := ioutil.WriteFile(crontabFile(dir), nil, 0600); err != nil {
		return err
	}
	if err := ioutil.WriteFile(filepath.Join(dir, "esx", "run", "crond.pid"), []byte(strconv.Itoa(pid)+"\n"), 0644); err != nil {
		return err
	}
	return ioutil.WriteFile(filepath.Join(dir, "esx", "rc.local.d", "local.sh"), []byte(stockLocalSh), 0755)
}

// bindEsxShell (inside a session's private namespace) puts the scheduler files at their ESXi paths.
func bindEsxShell(dir string) error {
	for _, b := range esxShellBinds(dir) {
		if _, err := os.Stat(b[0]); err != nil {
			continue // an older state dir
		}
		if err := syscall.Mount(b[0], b[1], "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %v", b[0], b[1], err)
		}
	}
	return nil
}

// cronField: whether a crontab field (*, N, N-M, */N, comma lists) admits v.
func cronField(f string, v int) bool {
	for _, p := range strings.Split(f, ",") {
		step := 1
		if i := strings.Index(p, "/"); i >= 0 {
			step, _ = strconv.Atoi(p[i+1:])
			p = p[:i]
			if step <= 0 {
				step = 1
			}
		}
		lo, hi := 0, 1<<30
		if p != "*" {
			if i := strings.Index(p, "-"); i >= 0 {
				lo, _ = strconv.Atoi(p[:i])
				hi, _ = strconv.Atoi(p[i+1:])
			} else {
				n, err := strconv.Atoi(p)
				if err != nil {
					continue
				}
				lo, hi = n, n
			}
		}
		if v >= lo && v <= hi && (v-lo)%step == 0 {
			return true
		}
	}
	return false
}

// dueLines: the commands of root's crontab due at minute t (UTC, as ESXi's clock).
func dueLines(dir string, t time.Time) []string {
	f, err := os.Open(crontabFile(dir))
	if err != nil {
		return nil
	}
	defer f.Close()
	t = t.UTC()
	var due []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 6 {
			continue
		}
		if cronField(fs[0], t.Minute()) && cronField(fs[1], t.Hour()) && cronField(fs[2], t.Day()) &&
			cronField(fs[3], int(t.Month())) && cronField(fs[4], int(t.Weekday())) {
			// the command: the rest of the line after the five fields, as crond hands it to /bin/sh -c
			rest := line
			for i := 0; i < 5; i++ {
				rest = strings.TrimLeft(rest, " \t")
				rest = rest[strings.IndexAny(rest+" ", " \t"):]
			}
			due = append(due, strings.TrimSpace(rest))
		}
	}
	return due
}

// runCron runs what is due at minute t, each as an ESXi shell command (`cesobed session`: the session namespace,
// PATH with vim-cmd/esxcli, the call log's ssh command record) and returns the commands with their exit codes.
func runCron(dir string, t time.Time) []string {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	var ran []string
	for _, line := range dueLines(dir, t) {
		cmd := exec.Command(self, "session", "-state", dir)
		cmd.Env = append(os.Environ(), "SSH_ORIGINAL_COMMAND="+line, "CESOBED_STATE="+dir)
		out, err := cmd.CombinedOutput()
		rc := 0
		if ee, ok := err.(*exec.ExitError); ok {
			rc = ee.ExitCode()
		} else if err != nil {
			rc = -1
		}
		ran = append(ran, fmt.Sprintf("%d %s", rc, line))
		if rc != 0 {
			fmt.Fprintf(os.Stderr, "cesobed crond: %q exited %d: %s\n", line, rc, strings.TrimSpace(string(out)))
		}
	}
	return ran
}

// crond: serve's scheduler loop, once a minute at the minute's start.
func crond(dir string) {
	for {
		now := time.Now()
		next := now.Truncate(time.Minute).Add(time.Minute)
		time.Sleep(next.Sub(now))
		runCron(dir, next)
	}
}

// cronTickCmd: `cesobed cron-tick -state DIR [-at RFC3339]` runs the lines due at that minute (default now) and prints
// one line per command run: its exit code and the command.
func cronTickCmd(args []string) int {
	fl := flag.NewFlagSet("cron-tick", flag.ContinueOnError)
	dir := fl.String("state", stateDir(), "state dir")
	at := fl.String("at", "", "the minute to run (RFC 3339, UTC); default now")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	t := time.Now()
	if *at != "" {
		p, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cron-tick: -at: %v\n", err)
			return 2
		}
		t = p
	}
	for _, r := range runCron(*dir, t) {
		fmt.Println(r)
	}
	return 0
}
