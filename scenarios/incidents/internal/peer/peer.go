// Package peer runs the other processes a service talks to (its clients' traffic, a broker, a
// log shipper) as separate processes of the same binary, so that their goroutines never show
// up in the service's own goroutine dumps. The parent process starts a role with Spawn; the
// child process enters it through Serve, called first thing in main.
package peer

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

const (
	roleEnv = "HANGDOC_PEER_ROLE"
	argsEnv = "HANGDOC_PEER_ARGS"
)

// Serve runs this process as a peer if it was started by Spawn, and reports whether it did
// (main should then return). roles maps role names to their entry points; "loadgen" is
// always available.
func Serve(roles map[string]func(args []string)) bool {
	role := os.Getenv(roleEnv)
	if role == "" {
		return false
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(argsEnv)), &args); err != nil {
		fmt.Fprintf(os.Stderr, "peer %s: bad arguments: %v\n", role, err)
		os.Exit(2)
	}
	if role == "loadgen" {
		runLoadgen(args)
		return true
	}
	fn, ok := roles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "peer: unknown role %q\n", role)
		os.Exit(2)
	}
	fn(args)
	return true
}

// Spawn starts this binary again in the given role. The child dies with its parent and
// writes its output to the parent's stderr (never to stdout, which carries the READY line).
func Spawn(role string, args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	enc, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"="+role, argsEnv+"="+string(enc))
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start peer %s: %w", role, err)
	}
	return cmd, nil
}
