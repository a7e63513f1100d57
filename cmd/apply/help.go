package main

import (
	"context"
	"fmt"
	"io"
)

func helpCommand() *command {
	return &command{
		name:    "help",
		usage:   "help [command]",
		summary: "show help for apply or for one command",
		help:    `Help shows the commands of apply, or the usage, flags and examples of one command.`,
		flags:   func() *flagSet { return newFlagSet("help") },
		run:     runHelp,
	}
}

func runHelp(ctx context.Context, e *env, args []string) error {
	switch len(args) {
	case 0:
		printUsage(e.stdout)
		return nil
	case 1:
		if c := findCommand(args[0]); c != nil {
			printCommandHelp(e.stdout, c)
			return nil
		}
		return &usageError{command: "help", problems: []string{fmt.Sprintf("unknown command %q", args[0])}}
	}
	return &usageError{command: "help", problems: []string{"help takes at most one command name"}}
}

// printUsage writes the overview of apply and its commands.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `apply manages Adobe Experience Platform source connections as code.

Usage:
  apply -f <path>... [flags]       plan and apply manifests
  apply <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  # Try it against the built-in emulator, with no account:
  apply -f examples/connections/ --emulator

  # Show what would change in your sandbox:
  apply -f connections/ --dry-run

Run 'apply help <command>' for the flags of a command.
`)
}

// printCommandHelp writes the usage line, description and flags of c.
func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: apply %s\n\n%s\n", c.usage, c.help)
	f := c.flags()
	if len(f.docs) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		f.printDefaults(w)
	}
	if c.name == "apply" {
		fmt.Fprint(w, environmentHelp)
		fmt.Fprint(w, filesHelp)
	}
}

// environmentHelp lists the variables of the apply command. Keep in sync
// with config.go and the README's configuration reference.
const environmentHelp = `
Environment:
  AEP_ENDPOINT        Flow Service gateway URL (default https://platform.adobe.io)
  AEP_ACCESS_TOKEN    access token; or set AEP_CLIENT_ID and AEP_CLIENT_SECRET
  AEP_CLIENT_ID       OAuth server-to-server client id, for the IMS token exchange
  AEP_CLIENT_SECRET   OAuth server-to-server client secret
  AEP_SCOPES          comma-separated IMS scopes (default openid,AdobeID,read_organizations,additional_info.projectedProductContext,session)
  AEP_IMS_ENDPOINT    IMS URL (default https://ims-na1.adobelogin.com)
  AEP_API_KEY         x-api-key header (default AEP_CLIENT_ID)
  AEP_ORG_ID          IMS organization id, such as 5C1328435BF324E90A49402A@AdobeOrg
  AEP_SANDBOX_NAME    sandbox name (default prod)
  APPLY_LOCK_KEY      key of the HMACs that let the lock file detect changed secrets; at least
                      32 bytes of random data, such as from: openssl rand -base64 32
  NO_COLOR            when set and not empty, no colour even on a terminal
`

// filesHelp lists the files the apply command reads and writes. Keep in
// sync with apply.go, emulator.go and the README.
const filesHelp = `
Files:
  apply.lock.json           lock file: the connection id of each manifest (--lock); commit it
  .apply.lock.json.flock    file lock beside the lock file, held during a run; do not commit it
  .apply-emulator/          --emulator runs only, in the working directory; delete it to start over:
    state.json              the emulator's connections, secrets included, in clear
    apply.lock.json         the lock file of --emulator runs
    lock.key                random key of the lock file's HMACs, used when APPLY_LOCK_KEY is unset
    .gitignore              "*", so that git leaves the folder out of commits
`
