package hub

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChangedFields(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"display_name", "id"}, changedFields(nil, json.RawMessage(`{"id":"u","display_name":"A"}`)))
	require.Equal(t, []string{"bio", "display_name"}, changedFields(
		json.RawMessage(`{"id":"u","display_name":"A","bio":"x"}`),
		json.RawMessage(`{"id":"u","display_name":"B"}`)))
	require.Empty(t, changedFields(json.RawMessage(`{"id":"u"}`), json.RawMessage(`{"id":"u"}`)))
}
