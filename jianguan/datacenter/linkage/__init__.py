"""Entity resolution: matching features, the Splink model, clustering with credit-code anchors, evaluation."""
