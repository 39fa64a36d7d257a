"""What a campaign is to a user: importing leads, its lifecycle, its status and its export."""
