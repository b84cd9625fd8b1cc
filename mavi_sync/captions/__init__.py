"""Security captions: kept, listed, written beside clips, received from the callback."""
