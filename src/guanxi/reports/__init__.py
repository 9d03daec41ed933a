"""Dashboards, standard reports, pivots and scheduled reports over the customer base."""
