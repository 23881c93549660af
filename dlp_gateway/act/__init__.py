"""act: carry out a Decision — deliver, strip, hold, reject — and say what to answer the client."""
