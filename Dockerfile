# terrinum server image: API, vector tiles and the built map client.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENV PORT=3000 HOST=0.0.0.0
EXPOSE 3000
USER node
CMD ["node", "bin/terrinum.js", "serve"]
