"""投诉举报: intake from every channel, dispatch, handling, supervision, reply, rating; reporter protection."""
