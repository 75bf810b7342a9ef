package main

import (
	"bufio"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// cleanup undoes what serve did, once: sshd (and its connection processes), vcsim, mounts, STATEDIR.
type cleanup struct {
	once     sync.Once
	dir      string
	keep     bool
	sshd     *os.Process
	sshdDone chan struct{}
	srv      *simulator.Server
	unixLn   net.Listener
	toolLn   net.Listener
	mounts   []string
	vmfsMk   []string // dirs we created under / for /vmfs/volumes
}

func (c *cleanup) run() {
	c.once.Do(func() {
		if c.sshd != nil {
			for _, p := range descendants(c.sshd.Pid) { // live connections are children of the listener
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			_ = c.sshd.Signal(syscall.SIGTERM)
			select {
			case <-c.sshdDone:
			case <-time.After(2 * time.Second):
				_ = c.sshd.Kill()
				<-c.sshdDone
			}
		}
		if c.unixLn != nil {
			_ = c.unixLn.Close()
		}
		if c.toolLn != nil {
			_ = c.toolLn.Close()
		}
		if c.srv != nil {
			done := make(chan struct{})
			go func() { c.srv.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
		}
		for i := len(c.mounts) - 1; i >= 0; i-- {
			if err := syscall.Unmount(c.mounts[i], 0); err != nil {
				_ = syscall.Unmount(c.mounts[i], syscall.MNT_DETACH)
			}
		}
		c.removeVmfs()
		if !c.keep {
			_ = os.RemoveAll(c.dir)
		}
	})
}

// descendants lists all processes below pid (children first by depth order reversed is not needed for SIGKILL).
func descendants(pid int) []int {
	kids := map[int][]int{}
	ents, _ := ioutil.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppidOf(p); pp > 0 {
			kids[pp] = append(kids[pp], p)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, k := range kids[p] {
			out = append(out, k)
			walk(k)
		}
	}
	walk(pid)
	return out
}

func ppidOf(pid int) int {
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return -1
	}
	pp, _ := strconv.Atoi(f[1])
	return pp
}

func commOf(pid int) string {
	b, _ := ioutil.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sftpServer is Debian's OpenSSH sftp-server, the test bed's sftp subsystem (ESXi ships OpenSSH's too). sshd hands a
// subsystem request to the ForceCommand with SSH_ORIGINAL_COMMAND set to this path; session runs it in the ESXi namespace.
const sftpServer = "/usr/lib/openssh/sftp-server"

// startSshd generates the per-run keys, known_hosts and sshd_config, links the tools, starts sshd -D.
func startSshd(st *State, cl *cleanup) (int, error) {
	dir := st.Dir
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	// The tools are links to esxtool (next to cesobed), which hands each call to serve over STATEDIR/tool.sock;
	// without esxtool they fall back to cesobed itself (multi-call on argv[0], ~12 ms a call).
	tool := filepath.Join(filepath.Dir(self), "esxtool")
	if _, err := os.Stat(tool); err != nil {
		tool = self
	}
	for _, t := range []string{"vim-cmd", "vmkfstools", "esxcli"} {
		_ = os.Symlink(tool, filepath.Join(dir, "bin", t))
	}
	_ = os.Symlink(self, filepath.Join(dir, "bin", "cesobed"))
	// The disk locks of running VMs for every program of a session (LD_PRELOAD, testbed/cesolock).
	lockLib := filepath.Join(filepath.Dir(self), "cesolock.so")
	if _, err := os.Stat(lockLib); err != nil {
		return 0, fmt.Errorf("%s is missing: run testbed/build.sh (it needs gcc: apt-get install gcc libc6-dev); the SSH sessions need it for the disk locks of running VMs", lockLib)
	}
	_ = os.Symlink(lockLib, filepath.Join(dir, "bin", "cesolock.so"))
	if err := writePythonWrapper(dir); err != nil {
		return 0, err
	}
	if _, err := os.Stat(sftpServer); err != nil {
		return 0, fmt.Errorf("%s is missing (apt-get install openssh-sftp-server): the test bed offers the sftp subsystem as ESXi does", sftpServer)
	}
	// user_ca: a user CA sshd trusts (TrustedUserCAKeys), so tests can log in with short-lived certificates
	// (ssh-keygen -s) whose key is not in authorized_keys; sshd refuses them once expired, as ESXi's would.
	hk, ck, ca := filepath.Join(dir, "ssh_host_ed25519_key"), filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "user_ca")
	for _, k := range []string{hk, ck, ca} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cesobed", "-f", k).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := ioutil.ReadFile(ck + ".pub")
	if err != nil {
		return 0, err
	}
	if err := ioutil.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0600); err != nil {
		return 0, err
	}
	hpub, err := ioutil.ReadFile(hk + ".pub")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(hpub))
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		if err := ioutil.WriteFile(filepath.Join(dir, "known_hosts"), []byte(fmt.Sprintf("[127.0.0.1]:%d %s %s\n", port, f[0], f[1])), 0644); err != nil {
			return 0, err
		}
		conf := fmt.Sprintf(`# cesobed per-run sshd (see testbed/SPEC.md)
ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
TrustedUserCAKeys %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitUserEnvironment no
UseDNS no
LogLevel ERROR
MaxStartups 100:30:200
MaxSessions 50
SetEnv CESOBED_STATE=%s
Subsystem sftp %s
ForceCommand %s session -state %s
`, port, hk, filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), ca+".pub", dir, sftpServer, filepath.Join(dir, "bin", "cesobed"), dir)
		cf := filepath.Join(dir, "sshd_config")
		if err := ioutil.WriteFile(cf, []byte(conf), 0644); err != nil {
			return 0, err
		}
		_ = os.MkdirAll("/run/sshd", 0755) // privilege separation dir Debian's sshd insists on
		cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cf)
		logf, _ := os.OpenFile(filepath.Join(dir, "sshd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		st.SshdPid = cmd.Process.Pid
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for i := 0; i < 200; i++ { // up to 4 s for the port to accept
			select {
			case err := <-exited:
				lastErr = fmt.Errorf("sshd exited: %v: %s", err, tail(filepath.Join(dir, "sshd.log")))
				goto next
			default:
			}
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond); err == nil {
				c.Close()
				cl.sshd, cl.sshdDone = cmd.Process, make(chan struct{})
				go func() { <-exited; close(cl.sshdDone) }()
				return port, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		lastErr = fmt.Errorf("sshd did not listen on %d", port)
	next:
	}
	return 0, lastErr
}

func tail(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "; ")
}

// writePythonWrapper puts `python` on the session PATH the way ESXi 7/8 have /bin/python (Python 3): Debian's
// python3 behind a wrapper that honours the python fault (off: not found, exit 127; refused: what an
// execInstalledOnly host prints for a binary it will not run, exit 126). The fault is read from faults.json on every
// call; grep matches only the key itself (a quote inside another fault's value is escaped in the JSON).
func writePythonWrapper(dir string) error {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		return fmt.Errorf("%s is missing (apt-get install python3): the test bed offers it as the host's python", py)
	}
	script := fmt.Sprintf(`#!/bin/sh
# cesobed: the host's /bin/python (Debian's python3); fault python=off|refused (SPEC.md)
case "$(grep -o '"python": *"[a-z]*"' '%s' 2>/dev/null)" in
*'"off"') echo "sh: python: not found" >&2; exit 127 ;;
*'"refused"') echo "sh: python: Operation not permitted" >&2; exit 126 ;;
esac
exec %s "$@"
`, filepath.Join(dir, "faults.json"), py)
	return ioutil.WriteFile(filepath.Join(dir, "bin", "python"), []byte(script), 0755)
}
