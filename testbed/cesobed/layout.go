package main

import "github.com/vmware/govmomi/simulator"

// fixLayout brings a VM's layoutEx in line with its disk chains (stub).
func fixLayout(st *State, vm *simulator.VirtualMachine) {}
