package main

import "net/http"

func (f *Front) failedSnapshotTask(w http.ResponseWriter, body []byte) {
	soapFault(w, "An error occurred while taking a snapshot: Operation failed.", "SnapshotFault", "")
}
