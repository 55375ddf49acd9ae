// Command webhook-example tells ssogate that a user's profile changed, with
// the official Standard Webhooks library for Go.
//
//	SSOGATE_URL=https://sso.example.com SSOGATE_WEBHOOK_SECRET=whsec_… go run . USER_ID 'New Name'
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Answer is the gateway's 202 body.
type Answer struct {
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
	Status  string `json:"status"` // queued, unchanged or stale
}

// Refusal is the body of every other answer.
type Refusal struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// profileChanged sends a JSON Merge Patch of the user's profile (only the
// fields named change; a nil value removes one) and returns the gateway's
// answer.
func profileChanged(gateway, secret, userID string, patch map[string]any) (*Answer, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"user_id": userID, "patch": patch})
	if err != nil {
		return nil, err
	}
	idBytes := make([]byte, 16)
	_, _ = rand.Read(idBytes)
	id := "msg_" + hex.EncodeToString(idBytes)
	now := time.Now()
	sig, err := wh.Sign(id, now, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, gateway+"/hooks/profile-changed", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		var refusal Refusal
		_ = json.NewDecoder(res.Body).Decode(&refusal)
		return nil, fmt.Errorf("webhook refused: %d %s: %s", res.StatusCode, refusal.Error.Code, refusal.Error.Message)
	}
	var answer Answer
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		return nil, err
	}
	return &answer, nil
}

func main() {
	answer, err := profileChanged(os.Getenv("SSOGATE_URL"), os.Getenv("SSOGATE_WEBHOOK_SECRET"),
		os.Args[1], map[string]any{"display_name": os.Args[2]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(answer)
	fmt.Println(string(out))
}
