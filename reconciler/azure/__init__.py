"""The only package that talks to Azure (imports azure.*): connection, observation, call metering."""
