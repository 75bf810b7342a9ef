// cesobed: the simulated standalone ESXi host of Ceso's test bed (see ../SPEC.md).
// One multi-call binary: `cesobed serve|fault|session`, and as vim-cmd / vmkfstools / esxcli via argv[0].
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strings"
)

// State is what serve writes to STATEDIR/state.json for the tools and the session wrapper.
type State struct {
	Dir        string    `json:"dir"`
	SoapURL    string    `json:"soapUrl"`
	Username   string    `json:"username"`
	Password   string    `json:"password"`
	Datastores []DSState `json:"datastores"`
	SshdPid    int       `json:"sshdPid"`
	ServePid   int       `json:"servePid"`
	Persona    string    `json:"persona"`
	// System volumes of ESXi 7+ (OSDATA, bootbanks): listed by esxcli, never datastores in the API.
	SystemVolumes []SysVolume `json:"systemVolumes"`
}

// SysVolume is a row of `esxcli storage filesystem list` that is not a datastore.
type SysVolume struct {
	Name string `json:"name"` // may be empty (an unnamed vfat partition)
	UUID string `json:"uuid"`
	Type string `json:"type"` // VMFSOS | vfat
	Size int64  `json:"size"`
	Free int64  `json:"free"`
}

// persona of the state (the default when an older state.json has none).
func (s *State) persona() Persona {
	p, _ := lookupPersona(s.Persona)
	return p
}

type DSState struct {
	Name     string `json:"name"`
	UUID     string `json:"uuid"`
	LocalDir string `json:"localDir"`
	VmfsPath string `json:"vmfsPath"`
	MoRef    string `json:"-"`
}

func loadState(dir string) (*State, error) {
	b, err := ioutil.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// stateDir finds STATEDIR for the tools: $CESOBED_STATE, else relative to the binary link (STATEDIR/bin/x).
func stateDir() string {
	if d := os.Getenv("CESOBED_STATE"); d != "" {
		return d
	}
	if p, err := filepath.Abs(os.Args[0]); err == nil {
		d := filepath.Dir(filepath.Dir(p))
		if _, err := os.Stat(filepath.Join(d, "state.json")); err == nil {
			return d
		}
	}
	return ""
}

func die(code int, format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(code)
}

func main() {
	base := filepath.Base(os.Args[0])
	switch base {
	case "vim-cmd", "vmkfstools", "esxcli":
		os.Exit(runTool(base, os.Args[1:]))
	}
	if len(os.Args) < 2 {
		die(2, "usage: cesobed serve|fault|session|vim-cmd|vmkfstools|esxcli ... (see testbed/SPEC.md)")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		serve(args)
	case "fault":
		os.Exit(faultCmd(args))
	case "session":
		os.Exit(session(args))
	case "cron-tick":
		os.Exit(cronTickCmd(args))
	case "guest-write":
		os.Exit(guestWriteCmd(args))
	case "vim-cmd", "vmkfstools", "esxcli":
		os.Exit(runTool(os.Args[1], args))
	default:
		die(2, "cesobed: unknown subcommand %q", os.Args[1])
	}
}

// runTool is the common entry of the ESXi tools when cesobed itself runs as vim-cmd/vmkfstools/esxcli (the slow
// fallback; STATEDIR/bin normally links esxtool, which hands the call to serve, see toolserver.go).
func runTool(tool string, args []string) int {
	dir := stateDir()
	if dir == "" {
		fmt.Fprintf(os.Stderr, "%s: CESOBED_STATE not set\n", tool)
		return 1
	}
	st, err := loadState(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", tool, err)
		return 1
	}
	cwd, _ := os.Getwd()
	t := &Tool{St: st, out: os.Stdout, errw: os.Stderr, in: os.Stdin, cwd: cwd}
	return t.run(tool, args)
}

// run: faults, call log (exec record), delay, then the tool; returns the exit code.
func (t *Tool) run(tool string, args []string) int {
	t.Faults = readFaults(t.St.Dir)
	if tool == "cesobed-guest-write" { // not a host command: no call-log record, no delay
		return t.guestWriteTool(args)
	}
	argv := append([]string{tool}, args...)
	logCall(t.St.Dir, Call{Channel: "ssh", Kind: "exec", Name: strings.Join(argv, " "), Argv: argv, Write: toolWrites(tool, args)})
	t.delay()
	switch tool {
	case "vim-cmd":
		return t.vimCmd(args)
	case "vmkfstools":
		return t.vmkfstools(args)
	case "esxcli":
		return t.esxcli(args)
	}
	fmt.Fprintf(t.errw, "%s: unknown tool\n", tool)
	return 127
}

func toolWrites(tool string, args []string) bool {
	switch tool {
	case "vmkfstools":
		for _, a := range args {
			switch a {
			case "-c", "-i", "-X", "-U", "-E", "--createvirtualdisk", "--clonevirtualdisk", "--extendvirtualdisk", "--deletevirtualdisk", "--renamevirtualdisk":
				return true
			}
		}
		return false
	case "esxcli":
		return len(args) >= 3 && args[0] == "system" && args[1] == "account" && args[2] != "list"
	case "vim-cmd":
		if len(args) == 0 {
			return false
		}
		c := args[0]
		switch c {
		case "vimsvc/auth/role_add", "vimsvc/auth/entity_permission_add", "vimsvc/auth/entity_permission_remove":
			return true
		}
		for _, w := range []string{"power.on", "power.off", "power.shutdown", "power.reset", "power.suspend", "power.reboot",
			"registervm", "unregister", "destroy", "reload", "snapshot.create", "snapshot.remove", "snapshot.revert", "message"} {
			if strings.HasSuffix(c, "/"+w) || strings.Contains(c, "/"+w) {
				if w == "message" && len(args) < 4 {
					return false
				}
				return true
			}
		}
	}
	return false
}
