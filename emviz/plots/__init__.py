"""Pure figure builders: History or analysis result -> plotly Figure (no streamlit)."""
