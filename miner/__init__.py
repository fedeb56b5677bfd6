"""miner package."""
