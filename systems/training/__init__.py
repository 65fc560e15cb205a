"""Training: recipes, tasks (one training step of each component), the loop, export."""
