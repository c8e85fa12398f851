// compose-config renders a compose file the way `docker compose config` does, with the compose
// specification's own loader (interpolation, merging, validation), and prints it as JSON. It
// needs no Docker engine, so the tests can check docker-compose.yml on any machine.
//
// Usage: compose-config FILE...
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if err := render(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func render(files []string) error {
	options, err := cli.NewProjectOptions(files, cli.WithOsEnv, cli.WithName("notion-assistant"))
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
