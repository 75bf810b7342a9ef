#!/usr/bin/env bash
# Shell-level check of the simulated guests: starts a private `cesobed serve`, makes one VM per image variant (a copy
# of vm01 whose flat disk is the variant's ext4 image, a file-backed serial port, guestinfo with a cloud-config whose
# runcmd runs Ceso's boot probe), powers each on over SSH and prints what each guest wrote to its serial port.
#   testbed/guest/check.sh [VARIANT...]      (as root: the guest runs in namespaces and a chroot)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bed="$repo/testbed/bin/cesobed"
[ $# -gt 0 ] || set -- good no-cloud-init ds-disabled no-tools
images=$("$here/make-image.sh" "$@")
out=$(mktemp)
"$bed" serve -vm 1 >"$out" 2>/dev/null &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
json=$(head -n 1 "$out")
get() { python3 -c 'import json,sys; print(eval("json.loads(sys.argv[1])"+sys.argv[2]))' "$json" "$1"; }
port=$(get '["sshPort"]') key=$(get '["sshKey"]') kh=$(get '["knownHosts"]') local=$(get '["datastores"][0]["localDir"]')
ssh_() { ssh -n -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -p "$port" root@127.0.0.1 "$@"; }
probe_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNlc28tcHJvYmUtY2hlY2stc2gtdGVzdC1rZXktMDE= ceso-probe"
want=$'want_host=probe-check\nwant_ip=192.0.2.10\nwant_key=AAAAC3NzaC1lZDI1NTE5AAAAIGNlc28tcHJvYmUtY2hlY2stc2gtdGVzdC1rZXktMDE=\n'
script="$want$(cat "$repo/src/Ceso.Engine/Templates/BootProbe.sh")"
while read -r variant image; do
  name="chk-$variant"
  ssh_ "mkdir -p /vmfs/volumes/datastore1/$name && vmkfstools -i /vmfs/volumes/datastore1/vm01/vm01.vmdk -d thin /vmfs/volumes/datastore1/$name/$name.vmdk >/dev/null"
  cp --sparse=always "$image" "$local/$name/$name-flat.vmdk"
  md=$(printf '{"instance-id":"i-check-%s","local-hostname":"probe-check","network":{"version":2,"ethernets":{"eth0":{"match":{"name":"e*"},"dhcp4":false,"addresses":["192.0.2.10/24"],"routes":[{"to":"0.0.0.0/0","via":"192.0.2.1"}]}}}}' "$variant" | gzip -9 | base64 -w0)
  ud=$(python3 -c 'import json,sys; print("#cloud-config\nhostname: \"probe-check\"\nssh_authorized_keys:\n  - "+json.dumps(sys.argv[1])+"\nruncmd:\n  - "+json.dumps(["/bin/sh","-c",sys.argv[2]]))' "$probe_key" "$script" | gzip -9 | base64 -w0)
  sed -e "s/vm01/$name/g" -e '/^uuid.bios/d' -e '/generatedAddress/d' "$local/vm01/vm01.vmx" >"$local/$name/$name.vmx"
  printf 'serial0.present = "TRUE"\nserial0.fileType = "file"\nserial0.fileName = "%s.serial.log"\nguestinfo.metadata = "%s"\nguestinfo.metadata.encoding = "gzip+base64"\nguestinfo.userdata = "%s"\nguestinfo.userdata.encoding = "gzip+base64"\n' \
    "$name" "$md" "$ud" >>"$local/$name/$name.vmx"
  id=$(ssh_ "vim-cmd solo/registervm /vmfs/volumes/datastore1/$name/$name.vmx $name")
  ssh_ "vim-cmd vmsvc/power.on $id" >/dev/null
  state=""
  for _ in $(seq 150); do
    state=$(ssh_ "vim-cmd vmsvc/power.getstate $id" | tail -n 1)
    [ "$state" = "Powered off" ] && break
    sleep 0.2
  done
  echo "== $variant ($state)"
  cat "$local/$name/$name.serial.log" 2>/dev/null || echo "(no serial file)"
done <<<"$images"
echo "== guests.jsonl"
cat "$(get '["stateDir"]')/guests.jsonl"
