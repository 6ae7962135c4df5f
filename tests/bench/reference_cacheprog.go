// A minimal GOCACHEPROG written in Go, for the benchmark only: it serves gets
// concurrently from a GOCACHE-layout directory and declares no put. Compiled Go has no
// runtime start-up to speak of, so its warm build time is the floor that the go
// command's GOCACHEPROG protocol itself sets on this machine.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type request struct {
	ID       int64
	Command  string
	ActionID []byte
}

type response struct {
	ID       int64
	Miss     bool       `json:",omitempty"`
	OutputID []byte     `json:",omitempty"`
	Size     int64      `json:",omitempty"`
	Time     *time.Time `json:",omitempty"`
	DiskPath string     `json:",omitempty"`
}

func main() {
	dir := os.Getenv("GOCACHE")
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	send := func(r response) {
		mu.Lock()
		defer mu.Unlock()
		encoder.Encode(r)
		out.Flush()
	}
	mu.Lock()
	out.WriteString(`{"ID":0,"KnownCommands":["get","close"]}` + "\n")
	out.Flush()
	mu.Unlock()
	decoder := json.NewDecoder(bufio.NewReader(os.Stdin))
	var pending sync.WaitGroup
	for {
		var r request
		if decoder.Decode(&r) != nil {
			break
		}
		if r.Command == "close" {
			pending.Wait()
			send(response{ID: r.ID})
			return
		}
		pending.Add(1)
		go func(r request) {
			defer pending.Done()
			send(lookup(dir, r))
		}(r)
	}
	pending.Wait()
}

func lookup(dir string, r request) response {
	action := hex.EncodeToString(r.ActionID)
	entry, err := os.ReadFile(dir + "/" + action[:2] + "/" + action + "-a")
	if err != nil || len(entry) != 175 {
		return response{ID: r.ID, Miss: true}
	}
	text := string(entry)
	output := text[68:132]
	size, _ := strconv.ParseInt(strings.TrimSpace(text[133:153]), 10, 64)
	nanos, _ := strconv.ParseInt(strings.TrimSpace(text[154:174]), 10, 64)
	path := dir + "/" + output[:2] + "/" + output + "-d"
	if info, err := os.Stat(path); err != nil || info.Size() != size {
		return response{ID: r.ID, Miss: true}
	}
	outputID, _ := hex.DecodeString(output)
	when := time.Unix(0, nanos)
	return response{ID: r.ID, OutputID: outputID, Size: size, Time: &when, DiskPath: path}
}
