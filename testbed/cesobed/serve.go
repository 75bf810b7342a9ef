package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

type serveInfo struct {
	SoapURL          string    `json:"soapUrl"`
	SoapHost         string    `json:"soapHost"`
	SoapPort         int       `json:"soapPort"`
	Username         string    `json:"username"`
	Password         string    `json:"password"`
	ThumbprintSha1   string    `json:"thumbprintSha1"`
	ThumbprintSha256 string    `json:"thumbprintSha256"`
	SshHost          string    `json:"sshHost"`
	SshPort          int       `json:"sshPort"`
	SshUser          string    `json:"sshUser"`
	SshKey           string    `json:"sshKey"`
	KnownHosts       string    `json:"knownHosts"`
	UserCaKey        string    `json:"userCaKey"` // the private key of the user CA sshd trusts (TrustedUserCAKeys)
	StateDir         string    `json:"stateDir"`
	CallLog          string    `json:"callLog"`
	Faults           string    `json:"faults"`
	Datastores       []DSState `json:"datastores"`
	Persona          string    `json:"persona"`
	Version          string    `json:"version"`
	Build            string    `json:"build"`
	APIVersion       string    `json:"apiVersion"`
	VMs              int       `json:"vms"`
	Pid              int       `json:"pid"`
}

func failJSON(format string, a ...interface{}) {
	b, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, a...)})
	fmt.Println(string(b))
	os.Exit(1)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// vmfsUUID looks like a real VMFS volume uuid: 8-8-4-12 hex digits.
func vmfsUUID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:16] + "-" + h[16:20] + "-" + h[20:32]
}

func thumb(raw []byte, sha256sum bool) string {
	var sum []byte
	if sha256sum {
		s := sha256.Sum256(raw)
		sum = s[:]
	} else {
		s := sha1.Sum(raw)
		sum = s[:]
	}
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// selfSigned makes a per-run certificate for 127.0.0.1.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost.localdomain", Organization: []string{"cesobed"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost", "localhost.localdomain"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	nvm := fs.Int("vm", 2, "initial VMs")
	nds := fs.Int("ds", 1, "datastores datastore1..N")
	dirFlag := fs.String("dir", "", "STATEDIR (default: a new /tmp/cesobed-*)")
	keep := fs.Bool("keep", false, "keep STATEDIR on exit")
	auto := fs.String("autostart", "off", "power on the initial VMs: on|off")
	printHelp := fs.Bool("print-help", false, "print how to connect (on stderr) after start")
	personaFlag := fs.String("persona", defaultPersona, "ESXi release to present as: "+personaNames())
	_ = fs.Parse(args)
	persona, ok := lookupPersona(*personaFlag)
	if !ok {
		failJSON("bad flags: -persona %s", personaNames())
	}
	autostart, err := onOffValue(*auto)
	if err != nil || *nvm < 0 || *nds < 1 {
		failJSON("bad flags: -vm >= 0, -ds >= 1, -autostart on|off")
	}
	for _, bin := range []string{"/usr/sbin/sshd", "/usr/bin/ssh-keygen"} {
		if _, err := os.Stat(bin); err != nil {
			failJSON("%s missing: apt-get install -y openssh-server openssh-client", bin)
		}
	}
	dir := *dirFlag
	if dir == "" {
		dir, err = ioutil.TempDir("", "cesobed-")
	} else {
		err = os.MkdirAll(dir, 0755)
	}
	if err != nil {
		failJSON("state dir: %v", err)
	}
	dir, _ = filepath.Abs(dir)
	_ = os.Chmod(dir, 0755)
	cl := &cleanup{dir: dir, keep: *keep}
	defer cl.run()
	fail := func(format string, a ...interface{}) { cl.run(); failJSON(format, a...) }

	st := &State{Dir: dir, Username: "root", Password: randHex(12), ServePid: os.Getpid(), Persona: persona.Key,
		SystemVolumes: systemVolumes(persona)}
	for i := 1; i <= *nds; i++ {
		name := fmt.Sprintf("datastore%d", i)
		d := DSState{Name: name, UUID: vmfsUUID(), LocalDir: filepath.Join(dir, "ds", name), VmfsPath: "/vmfs/volumes/" + name}
		if err := os.MkdirAll(d.LocalDir, 0755); err != nil {
			fail("datastore dir: %v", err)
		}
		st.Datastores = append(st.Datastores, d)
	}
	cl.mountTmpfs(st)
	for _, sub := range []string{"bin"} {
		_ = os.MkdirAll(filepath.Join(dir, sub), 0755)
	}
	_, _ = updateFaults(dir, func(f *Faults) {})

	applyPersona(persona)
	model := simulator.ESX()
	model.Machine, model.Datastore, model.Autostart = 0, 0, false
	if err := model.Create(); err != nil {
		fail("vcsim model: %v", err)
	}
	cert, err := selfSigned()
	if err != nil {
		fail("certificate: %v", err)
	}
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(st.Username, st.Password)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	var srv *simulator.Server
	func() {
		defer func() {
			if r := recover(); r != nil {
				fail("vcsim listen: %v", r)
			}
		}()
		srv = model.Service.NewServer()
	}()
	cl.srv = srv
	u := *srv.URL
	u.User = nil
	st.SoapURL = u.String()

	// Front handler: call log, faults, strictness, url rewrite (soapfront.go). TLS = external; unix socket = internal.
	front := &Front{St: st, Mux: srv.Server.Config.Handler}
	srv.Server.Config.Handler = front
	sock := filepath.Join(dir, "soap.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fail("unix socket: %v", err)
	}
	cl.unixLn = ln
	go func() { _ = http.Serve(ln, &internalHandler{front}) }()

	if err := writeState(st); err != nil {
		fail("state: %v", err)
	}
	ctx := context.Background()
	if err := setupInventory(ctx, st, *nvm, autostart); err != nil {
		fail("initial inventory: %v", err)
	}
	front.ready = true
	if err := setupEsxShell(dir, os.Getpid()); err != nil {
		fail("ESXi shell files: %v", err)
	}
	go crond(dir)
	refreshLocks(st) // -autostart on: the initial VMs run
	go guestWriterLoop(st)
	go guestBootLoop(st)
	if err := startToolServer(st, cl, model.Service, front); err != nil {
		fail("tool socket: %v", err)
	}

	sshPort, err := startSshd(st, cl)
	if err != nil {
		fail("sshd: %v", err)
	}
	if err := writeState(st); err != nil {
		fail("state: %v", err)
	}
	soapPort, _ := strconv.Atoi(u.Port())
	info := serveInfo{SoapURL: st.SoapURL, SoapHost: "127.0.0.1", SoapPort: soapPort, Username: st.Username, Password: st.Password,
		ThumbprintSha1: thumb(cert.Certificate[0], false), ThumbprintSha256: thumb(cert.Certificate[0], true),
		SshHost: "127.0.0.1", SshPort: sshPort, SshUser: currentUser(), SshKey: filepath.Join(dir, "id_ed25519"),
		KnownHosts: filepath.Join(dir, "known_hosts"), UserCaKey: filepath.Join(dir, "user_ca"), StateDir: dir, CallLog: filepath.Join(dir, "calls.jsonl"),
		Faults: filepath.Join(dir, "faults.json"), Datastores: st.Datastores,
		Persona: persona.Key, Version: persona.Version, Build: persona.Build, APIVersion: persona.APIVersion, VMs: len(simulator.Map.All("VirtualMachine")), Pid: os.Getpid()}
	b, _ := json.Marshal(info)
	fmt.Println(string(b))
	_ = ioutil.WriteFile(filepath.Join(dir, "serve.json"), append(b, '\n'), 0644)
	help := fmt.Sprintf("cesobed: ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -p %d %s@127.0.0.1\n"+
		"cesobed: ESXi %s (persona %s)\ncesobed: SOAP %s user %s password %s (sha1 %s)\ncesobed: faults: %s fault -state %s KEY=VALUE; stop: kill -TERM %d\n",
		info.SshKey, info.KnownHosts, sshPort, info.SshUser, persona.FullName(), persona.Key, st.SoapURL, st.Username, st.Password, info.ThumbprintSha1, os.Args[0], dir, os.Getpid())
	if *printHelp {
		fmt.Fprint(os.Stderr, help)
	} else {
		fmt.Fprintf(os.Stderr, "cesobed: ready; ssh -i %s -o UserKnownHostsFile=%s -p %d %s@127.0.0.1 (serve -print-help for more)\n", info.SshKey, info.KnownHosts, sshPort, info.SshUser)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	// `kill -HUP $(cat /var/run/crond.pid)` after a crontab edit (esxshell.go): serve is the crond; nothing to reload.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	<-sig
	cl.run()
	os.Exit(0)
}

func writeState(st *State) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	tmp := filepath.Join(st.Dir, ".state.json.tmp")
	if err := ioutil.WriteFile(tmp, b, 0644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(st.Dir, "state.json"))
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" && os.Getuid() != 0 {
		return u
	}
	if os.Getuid() == 0 {
		return "root"
	}
	b, _ := ioutil.ReadFile("/etc/passwd")
	for _, l := range strings.Split(string(b), "\n") {
		p := strings.Split(l, ":")
		if len(p) > 2 && p[2] == strconv.Itoa(os.Getuid()) {
			return p[0]
		}
	}
	return "root"
}
