// govmomi-discovery: the peer of Ceso's VM discovery. It logs in to the vSphere API, creates a ContainerView of
// VirtualMachine over the root folder, then answers each stdin line "run" with one timed RetrievePropertiesEx of the
// given property paths (ContinueRetrievePropertiesEx while the host pages), decoded into []mo.VirtualMachine, and
// prints "<milliseconds> <vms> <milliseconds of those in mo.LoadObjectContent>". The C# driver (bench/Ceso.Bench) alternates it with Ceso in the same rounds.
//
// TLS: the certificate is pinned by its SHA-256 thumbprint (VerifyPeerCertificate), the same check Ceso makes;
// Go's CA verification is off because the test bed's certificate is self-signed.
//
// Build (GOPATH mode, Debian's govmomi 0.24.2): GOPATH=/usr/share/gocode GO111MODULE=off go build
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	rawURL := flag.String("url", "", "https://HOST:PORT/sdk")
	user := flag.String("user", "root", "user")
	password := flag.String("password", "", "password")
	thumb := flag.String("thumbprint", "", "SHA-256 thumbprint AA:BB:… to pin")
	props := flag.String("props", "", "comma-separated property paths")
	flag.Parse()
	ctx := context.Background()
	die := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "govmomi-discovery:", err)
			os.Exit(1)
		}
	}

	u, err := url.Parse(*rawURL)
	die(err)
	sc := soap.NewClient(u, true)
	want := strings.ToUpper(strings.ReplaceAll(*thumb, ":", ""))
	sc.DefaultTransport().TLSClientConfig.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		sum := sha256.Sum256(raw[0])
		if got := fmt.Sprintf("%X", sum[:]); got != want {
			return fmt.Errorf("thumbprint %s is not the pinned %s", got, want)
		}
		return nil
	}
	c, err := vim25.NewClient(ctx, sc)
	die(err)
	die(session.NewManager(c).Login(ctx, url.UserPassword(*user, *password)))
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	die(err)

	req := types.RetrievePropertiesEx{
		This: c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet: []types.ObjectSpec{{
				Obj:       v.Reference(),
				Skip:      types.NewBool(true),
				SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ContainerView", Path: "view"}},
			}},
			PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: strings.Split(*props, ",")}},
		}},
	}

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		start := time.Now()
		var content []types.ObjectContent
		res, err := methods.RetrievePropertiesEx(ctx, c, &req)
		die(err)
		for res.Returnval != nil {
			content = append(content, res.Returnval.Objects...)
			if res.Returnval.Token == "" {
				break
			}
			next, err := methods.ContinueRetrievePropertiesEx(ctx, c, &types.ContinueRetrievePropertiesEx{This: req.This, Token: res.Returnval.Token})
			die(err)
			res = &types.RetrievePropertiesExResponse{Returnval: &next.Returnval}
		}
		decoded := time.Since(start)
		var vms []mo.VirtualMachine
		die(mo.LoadObjectContent(content, &vms))
		total := time.Since(start)
		fmt.Printf("%.3f %d %.3f\n", ms(total), len(vms), ms(total-decoded))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
