package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// session is sshd's ForceCommand: the ESXi shell (see SPEC.md "The ESXi shell behind sshd").
func session(args []string) int {
	dir := ""
	if len(args) >= 2 && args[0] == "-state" {
		dir = args[1]
	}
	if dir == "" {
		dir = stateDir()
	}
	st, err := loadState(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cesobed session: %v\n", err)
		return 1
	}
	cmdline, hasCmd := os.LookupEnv("SSH_ORIGINAL_COMMAND")
	faults := readFaults(dir)
	// The sftp subsystem (sshd_config `Subsystem sftp`): sshd gives the ForceCommand the subsystem's program as the
	// original command. It runs as itself (no shell) in the same namespace, so /vmfs/volumes/<ds> works over SFTP.
	sftp := hasCmd && cmdline == sftpServer
	if sftp {
		logCall(dir, Call{Channel: "ssh", Kind: "subsystem", Name: "sftp"})
	} else {
		logCall(dir, Call{Channel: "ssh", Kind: "command", Name: cmdline})
	}
	persistent := cmdline == "/bin/sh" || cmdline == "sh" || !hasCmd

	if os.Getuid() == 0 {
		if err := enterNamespace(st); err != nil {
			fmt.Fprintf(os.Stderr, "cesobed session: %v\n", err)
			return 1
		}
	}
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PATH=") && !strings.HasPrefix(e, "CESOBED_STATE=") && !strings.HasPrefix(e, "LD_PRELOAD=") && !strings.HasPrefix(e, "CESOBED_LOCKS=") {
			env = append(env, e)
		}
	}
	// LD_PRELOAD: the disk locks of running VMs (cesolock.so, STATEDIR/locks; SPEC.md "Disks of running VMs")
	env = append(env, "LD_PRELOAD="+filepath.Join(dir, "bin", "cesolock.so"), "CESOBED_LOCKS="+filepath.Join(dir, locksFile))
	env = append(env, "PATH="+filepath.Join(dir, "bin")+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "CESOBED_STATE="+dir)
	var cmd *exec.Cmd
	if persistent {
		cmd = exec.Command("/bin/sh")
	} else if sftp {
		cmd = exec.Command(sftpServer)
	} else {
		cmd = exec.Command("/bin/sh", "-c", cmdline)
	}
	cmd.Env, cmd.Stderr = env, os.Stderr
	cmd.Dir = "/"
	if h := os.Getenv("HOME"); h != "" {
		cmd.Dir = h
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	drop := func() { killConnection(st, cmd) }
	// stdout: direct, or counted when dropSshAfterBytes is set (one-shot: consumed when it fires).
	var outWG sync.WaitGroup
	if faults.DropSshAfterBytes > 0 {
		limit := faults.DropSshAfterBytes
		pr, err := cmd.StdoutPipe()
		if err != nil {
			return 1
		}
		outWG.Add(1)
		go func() {
			defer outWG.Done()
			var n int64
			buf := make([]byte, 32*1024)
			for {
				k, err := pr.Read(buf)
				if k > 0 {
					if n+int64(k) >= limit {
						_, _ = os.Stdout.Write(buf[:limit-n])
						_, _ = updateFaults(dir, func(f *Faults) { f.DropSshAfterBytes = 0 })
						drop()
					}
					n += int64(k)
					_, _ = os.Stdout.Write(buf[:k])
				}
				if err != nil {
					return
				}
			}
		}()
	} else {
		cmd.Stdout = os.Stdout
	}
	// dropSsh: the connection dies while the client waits for the matching command (one-shot). The line is not
	// passed on, so the outcome is deterministic: the client sees a dropped connection, never a finished command.
	checkDrop := func(line string) bool {
		f := readFaults(dir)
		if f.DropSsh != "" && strings.Contains(line, f.DropSsh) {
			_, _ = updateFaults(dir, func(f *Faults) { f.DropSsh = "" })
			drop()
			return true
		}
		return false
	}
	if persistent {
		w, err := cmd.StdinPipe()
		if err != nil {
			return 1
		}
		go func() {
			r := bufio.NewReader(os.Stdin)
			for {
				line, err := r.ReadString('\n')
				if line != "" {
					logCall(dir, Call{Channel: "ssh", Kind: "stdin", Name: strings.TrimRight(line, "\r\n")})
					if checkDrop(line) {
						w.Close()
						return
					}
					if _, werr := io.WriteString(w, line); werr != nil {
						return
					}
				}
				if err != nil {
					w.Close()
					return
				}
			}
		}()
	} else {
		cmd.Stdin = os.Stdin
		if checkDrop(cmdline) {
			time.Sleep(time.Second) // the connection is being killed
			return 255
		}
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cesobed session: %v\n", err)
		return 1
	}
	outWG.Wait()
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// killConnection drops the SSH connection: SIGKILL to the per-connection sshd processes above us
// (everything between the listener sshd and this process) and to the command's process group.
func killConnection(st *State, cmd *exec.Cmd) {
	var victims []int
	for p := os.Getppid(); p > 1 && p != st.SshdPid; p = ppidOf(p) {
		if commOf(p) == "sshd" || strings.HasPrefix(commOf(p), "sshd") {
			victims = append(victims, p)
		}
	}
	for _, p := range victims {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	os.Exit(255)
}
