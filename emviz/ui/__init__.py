"""Streamlit helpers shared by the pages: data and model pickers, cached runs, the step controls."""
