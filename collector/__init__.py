"""The home hub: reads bands, straps, bikes and treadmills over Bluetooth LE and uploads samples.

The collector never touches the database; it talks to the service over HTTP only.
"""
