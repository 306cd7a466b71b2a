package chat

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
)

// GroupMembers returns the user IDs of Slack user group groupID ("S…"),
// through usergroups.users.list (needs the usergroups:read scope).
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	users, err := c.api.GetUserGroupMembersContext(ctx, groupID)
	if err != nil {
		return nil, fmt.Errorf("chat: members of user group %s: %w", groupID, err)
	}
	return users, nil
}

// SlackError returns the error code Slack answered (e.g. "not_in_channel",
// "message_not_found"), or "" when err is not a Slack API error.
func SlackError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
