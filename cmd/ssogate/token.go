package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ssogate/ssogate/tokens"
)

const tokenSynopsis = "token mint --user ID --name NAME [--ttl 1h] | token mint --system [--ttl 24h] | token verify [--system] [TOKEN]"

// The token commands mint and verify tokens with the configured network's
// key. The key comes from the config file or SSOGATE_NETWORK_KEY only, never
// the command line, where ps would show it.

// tokenCodec builds the codec of the configured network.
func tokenCodec(cfg *Config) (*tokens.Codec, error) {
	codec, err := tokens.New(tokens.Config{
		Network:           cfg.Network.Name,
		Key:               cfg.Network.Key,
		PreviousKeys:      cfg.Network.PreviousKeys,
		JavaKeyTruncation: cfg.Network.JavaKeyTruncation,
	})
	if err != nil {
		return nil, &ConfigError{Problems: []string{err.Error()}}
	}
	return codec, nil
}

func tokenMintCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	o := tokenMintOptions{
		user:   fs.String("user", "", "user id (letters, digits, _ . -)"),
		name:   fs.String("name", "", "display name (at most 50 characters)"),
		ttl:    fs.Duration("ttl", 0, "lifetime (default 1h for a user token, 24h for a system token)"),
		system: fs.Bool("system", false, "mint a system token (user and name \"system\")"),
	}
	return func(_ context.Context, e *env, args []string) error {
		return runTokenMint(e, flags, o, args)
	}
}

type tokenMintOptions struct {
	user, name *string
	ttl        *time.Duration
	system     *bool
}

func runTokenMint(e *env, flags *configFlags, o tokenMintOptions, rest []string) error {
	user, name, ttl, system := o.user, o.name, o.ttl, o.system
	var problems []string
	if len(rest) > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", strings.Join(rest, " ")))
	}
	if *system && (*user != "" || *name != "") {
		problems = append(problems, "--system takes no --user or --name")
	}
	if !*system && *user == "" {
		problems = append(problems, "--user is required (or --system)")
	}
	if *ttl < 0 {
		problems = append(problems, "--ttl must be positive")
	}
	if len(problems) > 0 {
		return usageErrorf("token mint: %s", strings.Join(problems, "; "))
	}
	cfg, err := loadConfig(flags, e.getenv, requirements{network: true})
	if err != nil {
		return err
	}
	codec, err := tokenCodec(cfg)
	if err != nil {
		return err
	}

	var token string
	if *system {
		token, err = codec.MintSystem(*ttl)
	} else {
		if *ttl == 0 {
			*ttl = time.Hour
		}
		token, err = codec.Mint(*user, *name, *ttl)
	}
	if err != nil {
		return usageErrorf("token mint: %v", err)
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}

func tokenVerifyCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	system := fs.Bool("system", false, "require a system token")
	return func(_ context.Context, e *env, args []string) error {
		return runTokenVerify(e, flags, *system, args)
	}
}

func runTokenVerify(e *env, flags *configFlags, system bool, rest []string) error {
	if len(rest) > 1 {
		return usageErrorf("token verify takes one token")
	}
	cfg, err := loadConfig(flags, e.getenv, requirements{network: true})
	if err != nil {
		return err
	}
	codec, err := tokenCodec(cfg)
	if err != nil {
		return err
	}

	var token string
	if len(rest) == 1 && rest[0] != "-" {
		token = rest[0]
	} else {
		line, err := bufio.NewReaderSize(e.stdin, tokens.MaxTokenLength+2).ReadString('\n')
		if err != nil && line == "" {
			return usageErrorf("token verify: no token given (argument or stdin)")
		}
		token = line
	}
	token = strings.TrimSpace(token)

	verify := codec.Verify
	if system {
		verify = codec.VerifySystem
	}
	claims, err := verify(token)
	if err != nil {
		return &exitError{code: 1, msg: "ssogate: invalid token: " + tokenErrorReason(err)}
	}
	out, err := json.MarshalIndent(claims, "", "  ")
	if err != nil {
		return fmt.Errorf("encode claims: %w", err)
	}
	fmt.Fprintln(e.stdout, string(out))
	return nil
}

// tokenErrorReason is the error without the package prefix.
func tokenErrorReason(err error) string {
	var expired *tokens.ExpiredError
	if errors.As(err, &expired) {
		return "expired at " + expired.Expires.UTC().Format(time.RFC3339)
	}
	return strings.TrimPrefix(err.Error(), "tokens: ")
}
